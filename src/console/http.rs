//! The one HTTP request the console makes, a GET to the federation endpoint: over TLS with the
//! platform's root certificates (plain HTTP only to a loopback stub), its answer bounded in
//! size, and its failures told without the request, which carries credentials.

/// A `getSigninToken` answer is a few hundred bytes; anything much larger is not one.
const ANSWER_MAX: usize = 64 * 1024;

/// One GET, its status and body. Errors are described by their root cause only: the outer
/// layers of an HTTP client's error may quote the request, and this one carries credentials.
pub(super) async fn get(url: &str) -> Result<(u16, Vec<u8>), String> {
    use http_body_util::{BodyExt, Empty, Limited};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::{Connect, HttpConnector};
    use hyper_util::rt::TokioExecutor;

    async fn send<C: Connect + Clone + Send + Sync + 'static>(
        connector: C,
        uri: hyper::Uri,
    ) -> Result<(u16, Vec<u8>), String> {
        let client: Client<C, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let request = hyper::Request::get(uri)
            .header(
                hyper::header::USER_AGENT,
                concat!("assume-role/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|_| "the request could not be made".to_owned())?;
        let response = client
            .request(request)
            .await
            .map_err(|e| crate::exit::root_cause(&e))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), ANSWER_MAX)
            .collect()
            .await
            .map_err(|_| "the answer could not be read, or was too large".to_owned())?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| "the endpoint is not a valid URL".to_owned())?;
    if uri.scheme_str() == Some("http") {
        // Loopback only (checked before): no TLS, and no root certificates to load.
        return send(HttpConnector::new(), uri).await;
    }
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no root certificates to check the endpoint with: {e}"))?
        .https_only()
        .enable_http1()
        .build();
    send(connector, uri).await
}
