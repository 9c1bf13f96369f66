//! Small widgets every panel uses.

pub mod field_error;
pub mod figure;
pub mod note;
pub mod panel;

pub use field_error::FieldError;
pub use figure::Figure;
pub use note::Note;
pub use panel::Panel;
