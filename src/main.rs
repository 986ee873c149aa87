use clap::Parser;

#[actix_web::main]
async fn main() {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,refinery_core=warn,tokio_postgres=warn"),
    )
    .init();
    let cli = banter::cli::Cli::parse();
    if let Err(e) = banter::cli::run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
