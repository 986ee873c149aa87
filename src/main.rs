use clap::Parser;

#[actix_web::main]
async fn main() {
    if let Err(e) = banter::logging::init() {
        eprintln!("error: cannot install the logger: {e}");
    }
    let cli = banter::cli::Cli::parse();
    if let Err(e) = banter::cli::run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
