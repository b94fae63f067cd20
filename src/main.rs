fn main() -> std::process::ExitCode {
    portplan::cli::main()
}
