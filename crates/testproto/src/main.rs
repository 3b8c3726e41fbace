//! `otsentry` with the test protocol registered: the one line a protocol costs.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otsentry::main_with(&[otsentry_engine::Protocol::of::<otsentry_testproto::ToyDissector>()])
}
