//! The whole program. On Unix the `assume-role` beside it (`src/main.rs`) serves a warm `env`,
//! `credential-process` and `prompt` itself and hands every other command line here.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    assume_role::commands::main()
}
