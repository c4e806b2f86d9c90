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

/// glibc serves allocations above a threshold it raises by itself (up to 32 MiB) from
/// per-thread arenas that it keeps: after a burst of sign-ins, Argon2's 12 MiB blocks
/// would stay resident, hundreds of MiB of them. A fixed 1 MiB threshold maps such
/// blocks on their own and gives them back when freed. `MALLOC_MMAP_THRESHOLD_` in
/// the environment still has the last word.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_big_blocks_to_the_system() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; this runs first thing in
        // main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return_big_blocks_to_the_system();
    tracing_subscriber::fmt()
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
