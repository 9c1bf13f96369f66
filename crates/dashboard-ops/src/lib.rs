//! Operations on the dashboard: rendering the one nginx.conf, supervising child
//! processes, and bringing up the local stack (the release bundle behind the
//! project's nginx, plus the reference backend). The run command and the browser
//! tests both use this, so what the tests exercise is what a person runs.

pub mod cluster;
pub mod docker;
pub mod http_check;
pub mod local_stack;
pub mod local_state;
pub mod nginx_conf;
pub mod process;
pub mod prometheus;
