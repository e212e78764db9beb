//! The test identity provider: tests/saml/idp.py builds and signs every response with pysaml2
//! and the `xmlsec1` binary, so the Rust code under test takes no part in making them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

use crate::helpers::{TempDir, TestApp};

const IDP_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the IdP's virtualenv: `SAML_PYTHON`, or what tests/saml/setup.sh prints.
fn saml_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let python = match std::env::var("SAML_PYTHON") {
                Ok(p) if !p.trim().is_empty() => p.trim().to_owned(),
                _ => {
                    let setup = repo().join("tests/saml/setup.sh");
                    let out = std::process::Command::new("bash")
                        .arg(&setup)
                        .output()
                        .unwrap_or_else(|e| panic!("could not run {}: {e}", setup.display()));
                    assert!(
                        out.status.success(),
                        "{} failed ({}); the SAML tests need python3 with venv and pip, and \
                         xmlsec1 (apt-get install -y xmlsec1 openssl python3-venv):\n{}",
                        setup.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                }
            };
            assert!(
                Path::new(&python).is_file(),
                "the SAML test IdP's python {python:?} does not exist (SAML_PYTHON or tests/saml/setup.sh)"
            );
            let xmlsec1 = std::env::var("XMLSEC1").unwrap_or_else(|_| "xmlsec1".into());
            let version = std::process::Command::new(&xmlsec1)
                .arg("--version")
                .output();
            assert!(
                version.is_ok_and(|o| o.status.success()),
                "the SAML test IdP signs with the xmlsec1 binary ({xmlsec1}), which is missing: \
                 apt-get install -y xmlsec1"
            );
            python
        })
        .clone()
}

/// One identity provider as a company configures it: its entity id, its SSO URL and the key
/// pair (`idp` or `wrong`, from tests/saml/keys.sh) it signs with.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub entity_id: String,
    pub sso_url: String,
    pub key: &'static str,
}

impl Tenant {
    pub fn new(name: &str, key: &'static str) -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        Self {
            entity_id: format!("https://{name}-{tag}.idp.example/saml"),
            sso_url: format!("https://{name}-{tag}.idp.example/sso"),
            key,
        }
    }
}

/// The console as a service provider for one company.
#[derive(Debug, Clone)]
pub struct Sp {
    pub slug: String,
    pub entity_id: String,
    pub acs_url: String,
    pub metadata_url: String,
}

pub fn sp(app: &TestApp, slug: &str) -> Sp {
    let metadata_url = app.url(&format!("/sso/saml/{slug}/metadata"));
    Sp {
        slug: slug.to_owned(),
        entity_id: metadata_url.clone(),
        acs_url: app.url(&format!("/sso/saml/{slug}/acs")),
        metadata_url,
    }
}

struct Batch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// `idp.py batch`, kept running: one JSON line of arguments in, one JSON answer out.
pub struct Idp {
    python: String,
    keys: TempDir,
    batch: Mutex<Batch>,
}

impl Idp {
    pub async fn start() -> Self {
        let python = saml_python();
        let keys = TempDir::new();
        let out = Command::new("bash")
            .arg(repo().join("tests/saml/keys.sh"))
            .arg(&keys.0)
            .output()
            .await
            .expect("run tests/saml/keys.sh");
        assert!(
            out.status.success(),
            "tests/saml/keys.sh failed (is openssl installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut child = Command::new(&python)
            .arg(repo().join("tests/saml/idp.py"))
            .arg("batch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {python} tests/saml/idp.py batch: {e}"));
        let stdin = child.stdin.take().expect("idp stdin");
        let stdout = BufReader::new(child.stdout.take().expect("idp stdout"));
        Self {
            python,
            keys,
            batch: Mutex::new(Batch {
                child,
                stdin,
                stdout,
            }),
        }
    }

    pub fn key_file(&self, file: &str) -> String {
        self.keys.0.join(file).to_string_lossy().into_owned()
    }

    /// Runs one idp.py command and returns its stdout. Any failure fails the test.
    pub async fn run(&self, args: Vec<String>) -> String {
        let mut batch = self.batch.lock().await;
        let mut line = serde_json::to_string(&args).expect("json args");
        line.push('\n');
        let answer = tokio::time::timeout(IDP_TIMEOUT, async {
            batch.stdin.write_all(line.as_bytes()).await?;
            batch.stdin.flush().await?;
            let mut answer = String::new();
            batch.stdout.read_line(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .unwrap_or_else(|_| panic!("tests/saml/idp.py did not answer within {IDP_TIMEOUT:?}"));
        let answer = match answer {
            Ok(a) if !a.trim().is_empty() => a,
            other => {
                let mut stderr = String::new();
                if let Some(mut e) = batch.child.stderr.take() {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), e.read_to_string(&mut stderr))
                            .await;
                }
                panic!("tests/saml/idp.py batch ended ({other:?}); stderr:\n{stderr}")
            }
        };
        let v: serde_json::Value = serde_json::from_str(&answer).expect("idp.py answers JSON");
        assert_eq!(
            v["code"],
            serde_json::json!(0),
            "idp.py {args:?} failed: {}",
            v["stderr"]
        );
        v["stdout"].as_str().unwrap_or_default().trim().to_owned()
    }

    pub async fn metadata(&self, t: &Tenant, with_cert: bool) -> String {
        let mut args: Vec<String> = vec![
            "metadata".into(),
            "--entity-id".into(),
            t.entity_id.clone(),
            "--sso-url".into(),
            t.sso_url.clone(),
        ];
        if with_cert {
            args.push("--cert".into());
            args.push(self.key_file(&format!("{}.crt", t.key)));
        } else {
            args.push("--no-cert".into());
        }
        self.run(args).await
    }

    /// A base64 SAMLResponse from tenant `t` for `sp` about `name_id` (also the email
    /// attribute); `extra` options come last and so override the defaults.
    pub async fn response(&self, t: &Tenant, sp: &Sp, name_id: &str, extra: &[&str]) -> String {
        let mut args: Vec<String> = [
            "response",
            "--idp-entity-id",
            &t.entity_id,
            "--sp-entity-id",
            &sp.entity_id,
            "--acs-url",
            &sp.acs_url,
            "--name-id",
            name_id,
            "--email",
            name_id,
            "--key",
            &self.key_file(&format!("{}.key", t.key)),
            "--cert",
            &self.key_file(&format!("{}.crt", t.key)),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = self.run(args).await;
        assert!(!out.is_empty(), "idp.py printed no response");
        out
    }

    /// The XML of a redirect-binding SAMLRequest (base64 of raw DEFLATE).
    pub async fn inflate(&self, saml_request: &str) -> String {
        const INFLATE: &str = "import base64,sys,zlib;\
            sys.stdout.write(zlib.decompress(base64.b64decode(sys.argv[1]),-15).decode())";
        let out = Command::new(&self.python)
            .args(["-c", INFLATE, saml_request])
            .output()
            .await
            .expect("run python to inflate the SAMLRequest");
        assert!(
            out.status.success(),
            "SAMLRequest is not base64 of DEFLATE: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("SAMLRequest is UTF-8")
    }
}

/// The value of `name="…"` on the root element of `xml`.
pub fn root_attr(xml: &str, name: &str) -> Option<String> {
    let start = xml.find("AuthnRequest")?;
    let head = &xml[start..start + xml[start..].find('>')?];
    for quote in ['"', '\''] {
        let marker = format!(" {name}={quote}");
        if let Some(i) = head.find(&marker) {
            let rest = &head[i + marker.len()..];
            return Some(rest[..rest.find(quote)?].to_owned());
        }
    }
    None
}
