//! OpenID Connect: the test provider of tests/oidc (npm `oidc-provider` on Node) as a child
//! process, and an app configured to use it.

use std::path::PathBuf;

use super::app::{reserve_port, TempDir, TestApp};

pub const OIDC_PROVIDER_KEY: &str = "okta";
pub const OIDC_CLIENT_ID: &str = "console-tests";
pub const OIDC_CLIENT_SECRET: &str = "console-tests-secret";

/// The OpenID provider of `tests/oidc` (npm `oidc-provider` on Node) as a child process,
/// killed on drop. A missing Node.js or provider fails the test; it never skips.
pub struct OidcProvider {
    child: std::process::Child,
    /// The listening URL from the `ready` line (what the app is configured with).
    pub issuer: String,
    pub port: u16,
    pub redirect_uri: String,
    log: PathBuf,
    _dir: TempDir,
}

impl OidcProvider {
    /// Starts the provider on `port` (0: any free one) for the one redirect URI, with
    /// `extra` arguments (like `--issuer-claim X`), and waits for its `ready` line.
    pub fn start(port: u16, redirect_uri: &str, extra: &[&str]) -> Self {
        use std::io::BufRead;
        use std::process::{Command, Stdio};

        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            here.join("node_modules/oidc-provider").is_dir(),
            "the OIDC test provider is not installed: run `bash tests/oidc/setup.sh` (needs Node.js >= 20.18 and npm)"
        );
        let dir = TempDir::new();
        let log = dir.0.join("provider.log");
        let stderr = std::fs::File::create(&log).expect("provider log file");
        let mut child = Command::new("node")
            .arg(here.join("provider.mjs"))
            .args(["--port", &port.to_string()])
            .args(["--client-id", OIDC_CLIENT_ID])
            .args(["--client-secret", OIDC_CLIENT_SECRET])
            .args(["--redirect-uri", redirect_uri])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("the OIDC tests need Node.js (`node` on PATH) to run tests/oidc/provider.mjs: {e}")
            });
        let stdout = child.stdout.take().expect("provider stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(90))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let Some(issuer) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the OIDC test provider did not print `ready <issuer>` (got {line:?}); its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let port = url::Url::parse(&issuer)
            .ok()
            .and_then(|u| u.port())
            .expect("the issuer has a port");
        Self {
            child,
            issuer,
            port,
            redirect_uri: redirect_uri.to_owned(),
            log,
            _dir: dir,
        }
    }

    /// Stops this provider and starts another on the same port and redirect URI, with `extra`
    /// arguments: new keys, no sessions, and (with `--issuer-claim`) another issuer.
    pub fn restart(&mut self, extra: &[&str]) {
        self.stop();
        let next = Self::start(self.port, &self.redirect_uri, extra);
        *self = next;
    }

    /// What the provider logged so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TestApp {
    /// The app with one OpenID provider, `okta`, served by the test provider started with
    /// `provider_args`. The provider must know the exact redirect URI before the app exists,
    /// so the app's port is reserved first and the app is bound to it.
    pub async fn spawn_with_oidc(provider_args: &[&str]) -> (Self, OidcProvider) {
        let port = reserve_port();
        let redirect_uri =
            format!("http://127.0.0.1:{port}/auth/oidc/{OIDC_PROVIDER_KEY}/callback");
        let provider = OidcProvider::start(0, &redirect_uri, provider_args);
        let issuer = provider.issuer.clone();
        let app = Self::spawn_with(move |settings| {
            settings.bind_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            settings.oidc_providers = vec![meetergo_console::auth::oidc::ProviderConfig {
                key: OIDC_PROVIDER_KEY.into(),
                display_name: "Okta".into(),
                issuer,
                client_id: OIDC_CLIENT_ID.into(),
                client_secret: secrecy::SecretString::from(OIDC_CLIENT_SECRET.to_owned()),
                tenant_template: false,
            }];
        })
        .await;
        assert_eq!(
            app.address,
            format!("http://127.0.0.1:{port}"),
            "the app is bound to the reserved port"
        );
        (app, provider)
    }
}
