//! Small widgets every panel uses.

pub mod field_error;
pub mod figure;
pub mod note;
pub mod on_demand;
pub mod panel;

pub use field_error::FieldError;
pub use figure::Figure;
pub use note::Note;
pub use on_demand::OnDemand;
pub use panel::Panel;
