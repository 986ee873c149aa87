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

/// jemalloc, not glibc's allocator: a node spent 8–12 % of its samples in glibc's
/// `malloc` and `free`; with jemalloc it spends less CPU per message and per connect and
/// holds less memory per idle socket (decision 0033 has the measurements).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
