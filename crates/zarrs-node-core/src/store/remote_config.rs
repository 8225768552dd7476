//! Object-store locations and options: parse `s3://`, `gs://`, `az://`/`abfs://` and
//! `http(s)://` URLs and build the matching `object_store` client from explicit options layered
//! over the usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_STORAGE_*`).
//!
//! No client is ever left to guess credentials from a cloud metadata endpoint unless the
//! environment allows it: without credentials, S3 fails fast when `AWS_EC2_METADATA_DISABLED`
//! is set, GCS when `NO_GCE_CHECK` is set, and Azure always (managed identity has to be named
//! through `AZURE_MSI_ENDPOINT` or a federated token file), so a missing key is a clear error
//! instead of a long wait on an address that does not answer.

use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

use zarrs_object_store::object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use zarrs_object_store::object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use zarrs_object_store::object_store::client::HttpConnector;
use zarrs_object_store::object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use zarrs_object_store::object_store::http::HttpBuilder;
use zarrs_object_store::object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use crate::error::{Error, ErrorCode, Result};

/// Which object-store service a location names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    /// Amazon S3 or any S3-compatible server.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage (and Azurite).
    Azure,
    /// A plain HTTP(S) server (read-only; byte ranges through `Range` headers).
    Http,
}

impl RemoteKind {
    /// Short name used in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::S3 => "S3",
            Self::Gcs => "GCS",
            Self::Azure => "Azure",
            Self::Http => "HTTP",
        }
    }
}

/// A parsed object-store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// The service.
    pub kind: RemoteKind,
    /// What the client builder is pointed at: `s3://bucket`, `gs://bucket`, `az://container`,
    /// `abfs://container@account...`, or the whole base URL for HTTP.
    pub base: String,
    /// Key prefix inside the bucket or container (no leading or trailing `/`); empty for HTTP,
    /// whose base URL keeps its path.
    pub prefix: String,
}

impl RemoteUrl {
    /// Parse `location` if its scheme names an object store; `None` for other schemes.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for a URL without a bucket, container or host.
    pub fn parse(location: &str) -> Option<Result<Self>> {
        let (scheme, rest) = location.split_once("://")?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => RemoteKind::S3,
            "gs" | "gcs" => RemoteKind::Gcs,
            "az" | "azure" | "abfs" | "abfss" | "adl" => RemoteKind::Azure,
            "http" | "https" => RemoteKind::Http,
            _ => return None,
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Some(Err(Error::invalid_input(format!(
                "{location}: a {} URL needs a {}",
                kind.name(),
                match kind {
                    RemoteKind::Azure => "container",
                    RemoteKind::Http => "host",
                    _ => "bucket",
                }
            ))
            .with_key(location)));
        }
        let prefix = path
            .split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        Some(Ok(if kind == RemoteKind::Http {
            Self {
                kind,
                base: format!("{scheme}://{authority}/{prefix}"),
                prefix: String::new(),
            }
        } else {
            Self {
                kind,
                base: format!("{scheme}://{authority}"),
                prefix,
            }
        }))
    }
}

/// Backoff delays between retries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackoffOptions {
    /// First delay in ms (default 100), doubled per retry up to `max_ms`.
    pub initial_ms: Option<u64>,
    /// Largest delay in ms (default 5000).
    pub max_ms: Option<u64>,
}

/// Retry budget for object-store requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RetryOptions {
    /// Retries after the first attempt (default 3; 0 disables retries).
    pub max_retries: Option<usize>,
    /// Backoff delays.
    pub backoff: BackoffOptions,
    /// Total time in ms after which a failing request is not retried again (default 60000).
    pub timeout_ms: Option<u64>,
    /// Time limit of one HTTP request, body included, in ms (default 30000): a stalled
    /// server costs at most this per attempt.
    pub request_timeout_ms: Option<u64>,
    /// Time limit to open a connection in ms (default 5000).
    pub connect_timeout_ms: Option<u64>,
}

/// Options for object-store locations (ignored by local and memory stores). Every `None`
/// falls back to the environment, then to the default. Deserialized from the camelCase JSON of
/// `openStore`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteOptions {
    /// S3 access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// S3 secret (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// S3 session token (`AWS_SESSION_TOKEN`).
    pub session_token: Option<String>,
    /// S3 region (`AWS_REGION`, `AWS_DEFAULT_REGION`; default `us-east-1`).
    pub region: Option<String>,
    /// Service endpoint: S3-compatible server (`AWS_ENDPOINT_URL`), Azure account URL
    /// (`AZURE_STORAGE_ENDPOINT`), GCS base URL.
    pub endpoint: Option<String>,
    /// Allow `http://` endpoints (`AWS_ALLOW_HTTP`, `AZURE_ALLOW_HTTP`); always on for
    /// `http://` store URLs and the Azure emulator.
    pub allow_http: Option<bool>,
    /// Send unsigned requests (public buckets and containers).
    pub anonymous: bool,
    /// Azure storage account (`AZURE_STORAGE_ACCOUNT_NAME`).
    pub account_name: Option<String>,
    /// Azure account key (`AZURE_STORAGE_ACCOUNT_KEY`).
    pub account_key: Option<String>,
    /// Azure SAS token (`AZURE_STORAGE_SAS_KEY`).
    pub sas_token: Option<String>,
    /// Use the Azurite emulator (`AZURE_STORAGE_USE_EMULATOR`); with `endpoint`, its URL.
    pub use_emulator: Option<bool>,
    /// GCS service-account key JSON (`GOOGLE_SERVICE_ACCOUNT_KEY`).
    pub service_account_key: Option<String>,
    /// GCS service-account key file (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`).
    pub service_account_path: Option<String>,
    /// Retry budget.
    pub retry: RetryOptions,
    /// Largest number of requests in flight per store (default 16).
    pub max_concurrency: Option<usize>,
    /// Merge byte ranges of one object closer than `coalesce_gap` into one request (default on).
    pub coalesce: Option<bool>,
    /// Largest gap in bytes bridged when coalescing (default 1 MiB; 0 merges only touching
    /// ranges).
    #[serde(rename = "coalesceGapBytes")]
    pub coalesce_gap: Option<u64>,
    /// Values larger than this are uploaded in parts (default 32 MiB).
    pub multipart_threshold: Option<u64>,
    /// Size of each uploaded part (default 8 MiB; S3 needs at least 5 MiB but for the last).
    pub multipart_part_size: Option<u64>,
}

/// Defaults of [`RemoteOptions`].
pub mod defaults {
    /// Retries after the first attempt.
    pub const MAX_RETRIES: usize = 3;
    /// First backoff delay (ms).
    pub const BACKOFF_INITIAL_MS: u64 = 100;
    /// Largest backoff delay (ms).
    pub const BACKOFF_MAX_MS: u64 = 5_000;
    /// Retry window (ms).
    pub const RETRY_TIMEOUT_MS: u64 = 60_000;
    /// One request's time limit (ms).
    pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
    /// Connect time limit (ms).
    pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
    /// Requests in flight per store.
    pub const MAX_CONCURRENCY: usize = 16;
    /// Coalescing gap (bytes).
    pub const COALESCE_GAP: u64 = 1 << 20;
    /// Multipart threshold (bytes).
    pub const MULTIPART_THRESHOLD: u64 = 32 << 20;
    /// Multipart part size (bytes).
    pub const MULTIPART_PART_SIZE: u64 = 8 << 20;
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_flag(name: &str) -> Option<bool> {
    env(name).map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

fn config_err(url: &RemoteUrl, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!(
            "cannot configure {} store {}: {e}",
            url.kind.name(),
            url.base
        ),
    )
    .with_key(url.base.clone())
}

fn no_credentials(url: &RemoteUrl, hint: &str) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!(
            "no {} credentials for {}: {hint}, or pass anonymous: true for public data",
            url.kind.name(),
            url.base
        ),
    )
    .with_key(url.base.clone())
}

impl RemoteOptions {
    fn retry_config(&self) -> RetryConfig {
        let r = &self.retry;
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(
                    r.backoff.initial_ms.unwrap_or(defaults::BACKOFF_INITIAL_MS),
                ),
                max_backoff: Duration::from_millis(
                    r.backoff.max_ms.unwrap_or(defaults::BACKOFF_MAX_MS),
                ),
                base: 2.0,
            },
            max_retries: r.max_retries.unwrap_or(defaults::MAX_RETRIES),
            retry_timeout: Duration::from_millis(
                r.timeout_ms.unwrap_or(defaults::RETRY_TIMEOUT_MS),
            ),
        }
    }

    fn client_options(&self, allow_http: bool) -> ClientOptions {
        let r = &self.retry;
        ClientOptions::new()
            .with_allow_http(allow_http)
            .with_timeout(Duration::from_millis(
                r.request_timeout_ms.unwrap_or(defaults::REQUEST_TIMEOUT_MS),
            ))
            .with_connect_timeout(Duration::from_millis(
                r.connect_timeout_ms.unwrap_or(defaults::CONNECT_TIMEOUT_MS),
            ))
    }

    /// Build the client for `url` (without the key prefix), sending requests through
    /// `connector`.
    ///
    /// # Errors
    /// [`ErrorCode::Storage`] for incomplete configuration or missing credentials.
    pub fn build(
        &self,
        url: &RemoteUrl,
        connector: impl HttpConnector,
    ) -> Result<Arc<dyn ObjectStore>> {
        Ok(match url.kind {
            RemoteKind::S3 => Arc::new(
                self.s3_builder(url)?
                    .with_http_connector(connector)
                    .build()
                    .map_err(|e| config_err(url, e))?,
            ),
            RemoteKind::Gcs => Arc::new(
                self.gcs_builder(url)?
                    .with_http_connector(connector)
                    .build()
                    .map_err(|e| config_err(url, e))?,
            ),
            RemoteKind::Azure => Arc::new(
                self.azure_builder(url)?
                    .with_http_connector(connector)
                    .build()
                    .map_err(|e| config_err(url, e))?,
            ),
            RemoteKind::Http => Arc::new(
                HttpBuilder::new()
                    .with_url(url.base.clone())
                    .with_client_options(self.client_options(true))
                    .with_retry(self.retry_config())
                    .with_http_connector(connector)
                    .build()
                    .map_err(|e| config_err(url, e))?,
            ),
        })
    }

    /// The S3 builder: environment first, explicit options over it.
    ///
    /// # Errors
    /// Missing credentials with `AWS_EC2_METADATA_DISABLED` set.
    pub fn s3_builder(&self, url: &RemoteUrl) -> Result<AmazonS3Builder> {
        let mut b = AmazonS3Builder::from_env().with_url(url.base.clone());
        let set = |b: AmazonS3Builder, key, v: &Option<String>| match v {
            Some(v) => b.with_config(key, v),
            None => b,
        };
        b = set(b, AmazonS3ConfigKey::AccessKeyId, &self.access_key_id);
        b = set(
            b,
            AmazonS3ConfigKey::SecretAccessKey,
            &self.secret_access_key,
        );
        b = set(b, AmazonS3ConfigKey::Token, &self.session_token);
        b = set(b, AmazonS3ConfigKey::Endpoint, &self.endpoint);
        // AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS SDKs.
        let region = self
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_string());
        b = b.with_region(region);
        if self.anonymous {
            b = b.with_skip_signature(true);
        }
        let has_key = b
            .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
            .is_some()
            && b.get_config_value(&AmazonS3ConfigKey::SecretAccessKey)
                .is_some();
        let other_source = [
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ]
        .iter()
        .any(|v| env(v).is_some());
        if !self.anonymous
            && !has_key
            && !other_source
            && env_flag("AWS_EC2_METADATA_DISABLED") == Some(true)
        {
            return Err(no_credentials(
                url,
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or pass accessKeyId and secretAccessKey",
            ));
        }
        let allow_http = self
            .allow_http
            .or_else(|| env_flag("AWS_ALLOW_HTTP"))
            .unwrap_or(false);
        Ok(b.with_client_options(self.client_options(allow_http))
            .with_retry(self.retry_config()))
    }

    /// The GCS builder: environment first, explicit options over it.
    ///
    /// # Errors
    /// Missing credentials with `NO_GCE_CHECK` set.
    pub fn gcs_builder(&self, url: &RemoteUrl) -> Result<GoogleCloudStorageBuilder> {
        let mut b = GoogleCloudStorageBuilder::from_env().with_url(url.base.clone());
        if let Some(k) = &self.service_account_key {
            b = b.with_service_account_key(k);
        }
        if let Some(p) = &self.service_account_path {
            b = b.with_service_account_path(p);
        }
        if let Some(e) = &self.endpoint {
            b = b.with_config(GoogleConfigKey::BaseUrl, e);
        }
        if self.anonymous {
            b = b.with_skip_signature(true);
        }
        let has_key = [
            GoogleConfigKey::ServiceAccount,
            GoogleConfigKey::ServiceAccountKey,
            GoogleConfigKey::ApplicationCredentials,
        ]
        .iter()
        .any(|k| b.get_config_value(k).is_some());
        if !self.anonymous && !has_key && env_flag("NO_GCE_CHECK") == Some(true) {
            return Err(no_credentials(
                url,
                "set GOOGLE_SERVICE_ACCOUNT (a key file) or GOOGLE_SERVICE_ACCOUNT_KEY, or pass serviceAccountPath or serviceAccountKey",
            ));
        }
        let allow_http = self
            .allow_http
            .or_else(|| env_flag("GOOGLE_ALLOW_HTTP"))
            .unwrap_or(false);
        Ok(b.with_client_options(self.client_options(allow_http))
            .with_retry(self.retry_config()))
    }

    /// The Azure builder: environment first, explicit options over it. Azurite is reached
    /// through `use_emulator` (default account and key, `http://127.0.0.1:10000` unless
    /// `endpoint` says otherwise) or an explicit endpoint, account and key.
    ///
    /// # Errors
    /// Missing credentials.
    pub fn azure_builder(&self, url: &RemoteUrl) -> Result<MicrosoftAzureBuilder> {
        const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
        const EMULATOR_KEY: &str =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        let mut b = MicrosoftAzureBuilder::from_env().with_url(url.base.clone());
        let emulator = self
            .use_emulator
            .or_else(|| env_flag("AZURE_STORAGE_USE_EMULATOR"))
            .unwrap_or(false);
        let mut allow_http = self
            .allow_http
            .or_else(|| env_flag("AZURE_ALLOW_HTTP"))
            .unwrap_or(false);
        let set = |b: MicrosoftAzureBuilder, key, v: &Option<String>| match v {
            Some(v) => b.with_config(key, v),
            None => b,
        };
        b = set(b, AzureConfigKey::AccountName, &self.account_name);
        b = set(b, AzureConfigKey::AccessKey, &self.account_key);
        b = set(b, AzureConfigKey::SasKey, &self.sas_token);
        b = set(b, AzureConfigKey::Endpoint, &self.endpoint);
        let endpoint = b.get_config_value(&AzureConfigKey::Endpoint);
        if emulator {
            allow_http = true;
            match endpoint {
                // Azurite elsewhere than its default port: the emulator's account and key at
                // an explicit endpoint (path-style URLs: the account is in the path).
                Some(e) => {
                    let account = b
                        .get_config_value(&AzureConfigKey::AccountName)
                        .unwrap_or_else(|| EMULATOR_ACCOUNT.to_string());
                    let e = e.trim_end_matches('/');
                    let e = if e.ends_with(&format!("/{account}")) {
                        e.to_string()
                    } else {
                        format!("{e}/{account}")
                    };
                    b = b
                        .with_use_emulator(false)
                        .with_account(&account)
                        .with_endpoint(e);
                    if b.get_config_value(&AzureConfigKey::AccessKey).is_none()
                        && b.get_config_value(&AzureConfigKey::SasKey).is_none()
                    {
                        b = b.with_access_key(EMULATOR_KEY);
                    }
                }
                None => b = b.with_use_emulator(true),
            }
        }
        if self.anonymous {
            b = b.with_skip_signature(true);
        }
        let has_credential = emulator
            || self.anonymous
            || [
                AzureConfigKey::AccessKey,
                AzureConfigKey::SasKey,
                AzureConfigKey::Token,
                AzureConfigKey::ClientSecret,
                AzureConfigKey::FederatedTokenFile,
                AzureConfigKey::MsiEndpoint,
                AzureConfigKey::UseAzureCli,
                AzureConfigKey::SkipSignature,
            ]
            .iter()
            .any(|k| b.get_config_value(k).is_some_and(|v| v != "false"));
        if !has_credential {
            return Err(no_credentials(
                url,
                "set AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY, or AZURE_STORAGE_USE_EMULATOR for Azurite), or pass accountName and accountKey",
            ));
        }
        Ok(b.with_client_options(self.client_options(allow_http))
            .with_retry(self.retry_config()))
    }

    /// Requests in flight per store.
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.max_concurrency
            .unwrap_or(defaults::MAX_CONCURRENCY)
            .max(1)
    }

    /// The coalescing gap, `None` when coalescing is off.
    #[must_use]
    pub fn coalesce_gap(&self) -> Option<u64> {
        self.coalesce
            .unwrap_or(true)
            .then(|| self.coalesce_gap.unwrap_or(defaults::COALESCE_GAP))
    }

    /// `(threshold, part size)` for multipart uploads.
    #[must_use]
    pub fn multipart(&self) -> (u64, u64) {
        let part = self
            .multipart_part_size
            .unwrap_or(defaults::MULTIPART_PART_SIZE)
            .max(1);
        let threshold = self
            .multipart_threshold
            .unwrap_or(defaults::MULTIPART_THRESHOLD)
            .max(part);
        (threshold, part)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(s: &str) -> RemoteUrl {
        RemoteUrl::parse(s).unwrap().unwrap()
    }

    #[test]
    fn parses_every_scheme() {
        let u = url("gs://bucket/a/b.zarr/");
        assert_eq!(
            (u.kind, u.base.as_str(), u.prefix.as_str()),
            (RemoteKind::Gcs, "gs://bucket", "a/b.zarr")
        );
        let u = url("az://container/x");
        assert_eq!(
            (u.kind, u.base.as_str(), u.prefix.as_str()),
            (RemoteKind::Azure, "az://container", "x")
        );
        let u = url("abfs://c@acct.dfs.core.windows.net/p/q");
        assert_eq!(
            (u.kind, u.base.as_str(), u.prefix.as_str()),
            (
                RemoteKind::Azure,
                "abfs://c@acct.dfs.core.windows.net",
                "p/q"
            )
        );
        let u = url("https://host:8080/data/x.zarr/");
        assert_eq!(
            (u.kind, u.base.as_str(), u.prefix.as_str()),
            (RemoteKind::Http, "https://host:8080/data/x.zarr", "")
        );
        assert_eq!(url("s3://b").prefix, "");
        assert!(RemoteUrl::parse("ftp://x").is_none());
        assert_eq!(
            RemoteUrl::parse("gs://").unwrap().unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    // GCS has no local server here: its configuration is what we can check.
    #[test]
    fn gcs_configuration() {
        let key = r#"{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"x","private_key_id":"1"}"#;
        let o = RemoteOptions {
            service_account_key: Some(key.into()),
            endpoint: Some("http://127.0.0.1:4443".into()),
            ..RemoteOptions::default()
        };
        let b = o.gcs_builder(&url("gs://my-bucket/p")).unwrap();
        assert_eq!(
            b.get_config_value(&GoogleConfigKey::ServiceAccountKey)
                .as_deref(),
            Some(key)
        );
        assert_eq!(
            b.get_config_value(&GoogleConfigKey::BaseUrl).as_deref(),
            Some("http://127.0.0.1:4443")
        );
        let anon = RemoteOptions {
            anonymous: true,
            ..RemoteOptions::default()
        };
        assert_eq!(
            anon.gcs_builder(&url("gs://b"))
                .unwrap()
                .get_config_value(&GoogleConfigKey::SkipSignature)
                .as_deref(),
            Some("true")
        );
        // The bucket comes from the URL when the client is built (no request is sent).
        let client = anon
            .build(
                &url("gs://my-bucket/p"),
                zarrs_object_store::object_store::client::ReqwestConnector::default(),
            )
            .unwrap();
        assert!(client.to_string().contains("my-bucket"), "{client}");
    }

    #[test]
    fn s3_explicit_options_win() {
        let o = RemoteOptions {
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("SECRET".into()),
            session_token: Some("TOKEN".into()),
            region: Some("eu-west-3".into()),
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..RemoteOptions::default()
        };
        let b = o.s3_builder(&url("s3://bkt/p")).unwrap();
        for (k, v) in [
            (AmazonS3ConfigKey::AccessKeyId, "AKID"),
            (AmazonS3ConfigKey::SecretAccessKey, "SECRET"),
            (AmazonS3ConfigKey::Token, "TOKEN"),
            (AmazonS3ConfigKey::Region, "eu-west-3"),
            (AmazonS3ConfigKey::Endpoint, "http://127.0.0.1:9000"),
        ] {
            assert_eq!(b.get_config_value(&k).as_deref(), Some(v), "{k:?}");
        }
        let client = o
            .build(
                &url("s3://bkt/p"),
                zarrs_object_store::object_store::client::ReqwestConnector::default(),
            )
            .unwrap();
        assert!(client.to_string().contains("bkt"), "{client}");
    }

    #[test]
    fn azure_emulator_and_missing_credentials() {
        let o = RemoteOptions {
            use_emulator: Some(true),
            endpoint: Some("http://127.0.0.1:10123".into()),
            ..RemoteOptions::default()
        };
        let b = o.azure_builder(&url("az://c/p")).unwrap();
        assert_eq!(
            b.get_config_value(&AzureConfigKey::Endpoint).as_deref(),
            Some("http://127.0.0.1:10123/devstoreaccount1")
        );
        assert_eq!(
            b.get_config_value(&AzureConfigKey::AccountName).as_deref(),
            Some("devstoreaccount1")
        );
        if std::env::vars().any(|(k, _)| k.starts_with("AZURE_")) {
            return; // credentials may come from this machine's environment
        }
        let none = RemoteOptions {
            account_name: Some("acct".into()),
            ..RemoteOptions::default()
        };
        let e = none.azure_builder(&url("az://c")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Storage);
        assert!(e.message.contains("no Azure credentials"), "{}", e.message);
    }

    #[test]
    fn defaults_and_switches() {
        let o = RemoteOptions::default();
        assert_eq!(o.coalesce_gap(), Some(defaults::COALESCE_GAP));
        assert_eq!(o.concurrency(), defaults::MAX_CONCURRENCY);
        assert_eq!(
            o.multipart(),
            (defaults::MULTIPART_THRESHOLD, defaults::MULTIPART_PART_SIZE)
        );
        let off = RemoteOptions {
            coalesce: Some(false),
            multipart_threshold: Some(1),
            multipart_part_size: Some(10),
            max_concurrency: Some(0),
            ..RemoteOptions::default()
        };
        assert_eq!(off.coalesce_gap(), None);
        assert_eq!(off.multipart(), (10, 10));
        assert_eq!(off.concurrency(), 1);
        let r = RemoteOptions {
            retry: RetryOptions {
                max_retries: Some(0),
                backoff: BackoffOptions {
                    initial_ms: Some(7),
                    max_ms: None,
                },
                ..RetryOptions::default()
            },
            ..RemoteOptions::default()
        }
        .retry_config();
        assert_eq!(r.max_retries, 0);
        assert_eq!(r.backoff.init_backoff, Duration::from_millis(7));
    }
}
