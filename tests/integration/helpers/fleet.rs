//! The fleet (issue 13 §6): two instances of the app on one PostgreSQL database behind a real
//! nginx, configured from `deploy/nginx.conf.example` exactly as `scripts/cluster` does, and
//! callers that reach nginx from a loopback address of the test's choosing.
//!
//! nginx connects to the instances from 127.0.0.2 (`proxy_bind` in the template), the one
//! trusted proxy; a caller that connects to an instance directly is an untrusted peer.

use std::future::Future;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meetergo_console::client_ip::TrustedProxies;
use meetergo_console::config::Settings;

use super::app::{backend, reserve_port, TempDir, TestApp};
use super::client::{cookie_less_http, http_from_address, Anonymous, Browser, Reply, TokenUser};
use super::RequestHelper;

/// Where nginx's connections to the instances come from: the only trusted proxy.
pub const NGINX_SOURCE: &str = "127.0.0.2";

/// `127.0.0.<n>`: a client on a machine of its own (any 127.x.y.z reaches loopback).
pub fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

pub struct Fleet {
    /// `http://127.0.0.1:<port>` of nginx: what `PUBLIC_URL` says to every instance.
    pub base: String,
    instances: Vec<TestApp>,
    /// The `REDIS_URL` every instance was given, if any.
    pub redis_url: Option<String>,
    _nginx: Nginx,
}

impl Fleet {
    /// Two instances with the test settings behind nginx; with a Redis URL, both share it.
    pub async fn start(redis_url: Option<String>) -> Self {
        Self::start_with(redis_url, |_| {}).await
    }

    /// As `start`, with `configure` applied to both instances' settings.
    pub async fn start_with(redis_url: Option<String>, configure: impl Fn(&mut Settings)) -> Self {
        assert_eq!(
            backend(),
            "postgres",
            "a fleet is two instances on one database, which only PostgreSQL serves: run with \
             TEST_BACKEND=postgres (scripts/test does, and skips fleet:: on SQLite)"
        );
        let port = reserve_port();
        let base = format!("http://127.0.0.1:{port}");
        let settings = |s: &mut Settings| {
            s.public_url = base.clone();
            s.trusted_proxies = format!("{NGINX_SOURCE}/32")
                .parse::<TrustedProxies>()
                .expect("nginx's address");
            // Each instance counts its own requests: the tests read which one served what.
            s.metrics_addr = Some("127.0.0.1:0".parse().expect("an address"));
            use_redis(s, redis_url.as_deref());
            configure(s);
        };
        let first = TestApp::spawn_with(&settings).await;
        let database = first.settings.database_url.clone();
        let second = TestApp::spawn_on(TempDir::new(), database, &settings).await;
        let instances = vec![first, second];
        let nginx = Nginx::start(port, &instances);
        Self {
            base,
            instances,
            redis_url,
            _nginx: nginx,
        }
    }

    /// The URL of `path` through nginx.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The instances behind nginx, each also reachable directly at its `address`.
    pub fn instances(&self) -> &[TestApp] {
        &self.instances
    }

    /// A new browser on the machine `127.0.0.<n>`, talking to nginx.
    pub fn browser_from(&self, n: u8) -> Browser {
        Browser::from_address(&self.base, loopback(n))
    }

    /// A caller with a credential on the machine `127.0.0.<n>`, talking to nginx.
    pub fn token_from(&self, n: u8, secret: &str) -> TokenUser {
        TokenUser::new(&self.base, http_from_address(loopback(n)), secret)
    }

    /// For each instance, the requests it answered on route pattern `route` with `status`.
    pub async fn answered(&self, route: &str, status: u16) -> Vec<f64> {
        let (route, status) = (format!("route=\"{route}\""), format!("status=\"{status}\""));
        let mut counts = Vec::new();
        for app in &self.instances {
            let total = metric_lines(app, "console_http_requests_total")
                .await
                .iter()
                .filter(|(labels, _)| labels.contains(&route) && labels.contains(&status))
                .map(|(_, value)| value)
                .sum();
            counts.push(total);
        }
        counts
    }

    /// For each instance, the requests its `limiter` refused.
    pub async fn refused_by(&self, limiter: &str) -> Vec<f64> {
        let limiter = format!("limiter=\"{limiter}\"");
        let mut counts = Vec::new();
        for app in &self.instances {
            let total = metric_lines(app, "console_rate_limit_rejections_total")
                .await
                .iter()
                .filter(|(labels, _)| labels.contains(&limiter))
                .map(|(_, value)| value)
                .sum();
            counts.push(total);
        }
        counts
    }

    /// Sends `call` through nginx until every instance has answered one of them on `route`;
    /// every answer must be `status`. Returns how many calls it took. Which instance nginx
    /// picks is read from the instances' metrics, never assumed.
    pub async fn until_each_instance_answered<F, Fut>(
        &self,
        route: &str,
        status: u16,
        mut call: F,
    ) -> usize
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Reply>,
    {
        let before = self.answered(route, status).await;
        for attempt in 1..=20 {
            let r = call().await;
            assert_eq!(
                r.status, status,
                "call {attempt} on {route} through nginx: {}",
                r.body
            );
            let now = self.answered(route, status).await;
            if now.iter().zip(&before).all(|(now, before)| now > before) {
                return attempt;
            }
            // nginx takes turns strictly: a call of two requests (a form, then its POST) would
            // land on the same instance every time. One request after every second call shifts
            // the turn, whether a call is one request or two.
            if attempt % 2 == 0 {
                let nudge = Anonymous::new(&self.base, cookie_less_http());
                nudge.get("/healthz").await.assert_status(200);
            }
        }
        panic!("20 calls through nginx did not reach both instances")
    }
}

/// `REDIS_URL` for every instance: their limits counted in that one Redis.
fn use_redis(settings: &mut Settings, url: Option<&str>) {
    settings.redis_url = url.map(|url| secrecy::SecretString::from(url.to_owned()));
}

/// The samples of `name` on the instance's metrics listener: (labels, value).
async fn metric_lines(app: &TestApp, name: &str) -> Vec<(String, f64)> {
    let base = app.metrics_address.clone().expect("a metrics listener");
    let r = Anonymous::new(&base, cookie_less_http())
        .get("/metrics")
        .await;
    r.assert_status(200);
    let prefix = format!("{name}{{");
    r.body
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once("} ")?;
            Some((labels.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// nginx in the foreground (`daemon off`), its prefix, pid, logs and temporary files in a
/// folder of its own; stopped on drop.
struct Nginx {
    child: Child,
    _dir: TempDir,
}

impl Nginx {
    fn start(port: u16, instances: &[TestApp]) -> Self {
        let template_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf.example");
        let template = std::fs::read_to_string(&template_path).expect("the nginx template");
        let upstreams: Vec<String> = instances
            .iter()
            .map(|app| {
                let address = app.address.trim_start_matches("http://");
                format!("server {address};")
            })
            .collect();
        let conf = fill_template(&template, &format!("127.0.0.1:{port}"), &upstreams);
        let dir = TempDir::new();
        let conf_path = dir.0.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let error_log = dir.0.join("error.log");
        let mut child = Command::new("nginx")
            .arg("-e")
            .arg(&error_log)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "nginx does not start ({e}): scripts/test installs it (apt-get install nginx)"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            let exited = child.try_wait().expect("nginx's status");
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "nginx did not listen on 127.0.0.1:{port} ({exited:?}): {}",
                    std::fs::read_to_string(&error_log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, _dir: dir }
    }
}

/// The template with its two placeholders filled in; a template without them fails, so the
/// example in the repository cannot drift from what the tests run.
pub fn fill_template(template: &str, listen: &str, upstreams: &[String]) -> String {
    for placeholder in ["{{LISTEN}}", "{{UPSTREAMS}}"] {
        assert_eq!(
            template.matches(placeholder).count(),
            1,
            "deploy/nginx.conf.example: {placeholder} once"
        );
    }
    template
        .replace("{{LISTEN}}", listen)
        .replace("{{UPSTREAMS}}", &upstreams.join("\n        "))
}

impl Drop for Nginx {
    /// SIGTERM, so the master takes its workers down with it (SIGKILL would orphan them).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
