use std::io::BufRead;

use clap::{Parser, Subcommand};
use taskbridge::config::Settings;
use taskbridge::Application;

#[derive(Parser)]
#[command(
    name = "taskbridge",
    version,
    about = "Bring assigned tasks from task tools into the time tracker"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a company and its owner, for headless set-ups. The password is read
    /// from TASKBRIDGE_OWNER_PASSWORD, or else from the first line of standard input.
    CreateCompany {
        /// The company's name.
        #[arg(long)]
        company: String,
        /// The owner's name.
        #[arg(long)]
        name: String,
        /// The owner's email, used to log in.
        #[arg(long)]
        email: String,
    },
}

/// mimalloc rather than glibc's allocator: a signed-in page allocates and frees a few
/// hundred small blocks across the worker and the blocking pool's threads, where glibc's
/// arenas and their locks were about a tenth of a My Tasks view in a profile (figures
/// in docs/benchmarks.md, "The allocator"). It also gives Argon2's 12 MiB blocks back
/// to the system once freed, which glibc did only with its mmap threshold pinned.
///
/// It is built with `no_thp`: otherwise it asks the kernel for transparent huge pages
/// over its arenas, whose 2 MiB pages stay resident as long as one block on them
/// lives, and the server's memory grew with every thread that touched one (a year's
/// CSV export grew it by 26 MiB where a month's grew it by nothing; see
/// docs/benchmarks.md, "Memory: mimalloc without huge pages").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        // Colours for a terminal only: a log file or a collector gets plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,taskbridge=info,actix_server=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("taskbridge: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Migrate => taskbridge::open_database(&settings)
                .await
                .map(|_| println!("database is up to date"))
                .map_err(|e| e.to_string()),
            Command::CreateCompany {
                company,
                name,
                email,
            } => {
                let password = match std::env::var("TASKBRIDGE_OWNER_PASSWORD") {
                    Ok(p) => p,
                    Err(_) => {
                        let mut line = String::new();
                        std::io::stdin()
                            .lock()
                            .read_line(&mut line)
                            .map_err(|e| e.to_string())?;
                        line.trim_end_matches(['\r', '\n']).to_owned()
                    }
                };
                let pool = taskbridge::open_database(&settings)
                    .await
                    .map_err(|e| e.to_string())?;
                let made = taskbridge::services::create_company(
                    &pool, &company, &name, &email, &password,
                )
                .await?;
                let id = made.company_id;
                if made.joined_existing {
                    println!("created company {id}, owned by {email}'s existing account (its password is unchanged)");
                } else {
                    println!("created company {id} with owner {email}");
                }
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskbridge: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let base = settings.base_url.clone();
    let sandbox = settings.sandbox;
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        "taskbridge is listening on port {}; open {base}{}",
        app.port(),
        if sandbox {
            " (sandbox providers on)"
        } else {
            ""
        }
    );
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
