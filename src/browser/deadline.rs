//! A request's deadline: an AbortController whose signal goes to `fetch`, aborted
//! by a timer after the time limit (or at once by [`Deadline::abort`]), and
//! which tells afterwards whether the limit or the caller ended it.
//! (`AbortSignal.timeout`/`any` would do the same in new browsers; the timer
//! works in all of them and can be told apart from a Stop.)

use std::cell::Cell;
use std::rc::Rc;

pub struct Deadline {
    controller: web_sys::AbortController,
    timed_out: Rc<Cell<bool>>,
    // Dropping it (the request is done) cancels the timer.
    _timer: gloo_timers::callback::Timeout,
}

impl Deadline {
    /// A deadline `after_ms` from now.
    pub fn after(after_ms: u32) -> Result<Self, String> {
        let controller = web_sys::AbortController::new()
            .map_err(|e| format!("no AbortController: {}", super::js_error::describe(&e)))?;
        let timed_out = Rc::new(Cell::new(false));
        let timer = {
            let (controller, timed_out) = (controller.clone(), timed_out.clone());
            gloo_timers::callback::Timeout::new(after_ms, move || {
                timed_out.set(true);
                controller.abort();
            })
        };
        Ok(Self {
            controller,
            timed_out,
            _timer: timer,
        })
    }

    pub fn signal(&self) -> web_sys::AbortSignal {
        self.controller.signal()
    }

    /// A handle that aborts the request from elsewhere (Stop).
    pub fn controller(&self) -> web_sys::AbortController {
        self.controller.clone()
    }

    /// Whether the time limit ended the request.
    pub fn timed_out(&self) -> bool {
        self.timed_out.get()
    }

    /// Whether the request was aborted, by the limit or by the caller.
    pub fn aborted(&self) -> bool {
        self.controller.signal().aborted()
    }
}
