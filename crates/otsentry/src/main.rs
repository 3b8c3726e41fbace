//! `otsentry`: a passive OT network security monitor, with the built-in protocols.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    otsentry::main_with(&[])
}
