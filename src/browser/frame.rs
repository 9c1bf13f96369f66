//! Work once per animation frame.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Calls `tick` once per animation frame until it returns false.
pub fn every_frame(mut tick: impl FnMut() -> bool + 'static) {
    type Frame = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;
    fn request(frame: &Frame) {
        if let (Some(window), Some(callback)) = (web_sys::window(), frame.borrow().as_ref()) {
            let _ = window.request_animation_frame(callback.as_ref().unchecked_ref());
        }
    }
    let frame: Frame = Rc::new(RefCell::new(None));
    let again = frame.clone();
    *frame.borrow_mut() = Some(Closure::new(move || {
        if tick() {
            request(&again);
        } else {
            // The closure's last call: dropping it here frees it once it returns.
            let _ = again.borrow_mut().take();
        }
    }));
    request(&frame);
}
