//! Small widgets every panel uses.

pub mod field_error;
pub mod figure;
pub mod panel;

pub use field_error::FieldError;
pub use figure::Figure;
pub use panel::Panel;
