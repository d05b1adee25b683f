//! The one reading of a failed AWS SDK call. Every service we call (STS, IAM, S3) fails in the
//! same few ways: no connection, no answer in time, a request that could not be built, or an
//! answer carrying an error code. [`classify`] says which, in words fit for a person and
//! without the SDK's `Debug` dump (which holds the raw request and body, credentials and all);
//! each service then says what that means for its own call.

use crate::aws::RemoteFailure;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How a call failed.
pub enum Failure {
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// The connection failed; the innermost cause, in words ("the connection was refused").
    Connect(String),
    /// Connected, but no answer within the operation timeout.
    NoAnswer,
    /// The request could not even be built (a malformed endpoint override, usually).
    NotBuilt(String),
    /// The service answered with an error it could parse, or we could read from the body.
    Service(Answer),
    /// An answer the SDK could not read as the service's response (a proxy's page, an
    /// emulator's quirk); what could be read of it.
    Unreadable(Answer),
}

impl Failure {
    /// The words for a failure that never reached the service; `None` for an answer.
    pub fn unreachable_detail(&self) -> Option<String> {
        match self {
            Failure::ConnectTimeout => Some("the connection timed out".to_owned()),
            Failure::Connect(cause) => Some(cause.clone()),
            Failure::NoAnswer => Some("no answer in time".to_owned()),
            Failure::NotBuilt(cause) => Some(format!("the request could not be made ({cause})")),
            Failure::Service(_) | Failure::Unreadable(_) => None,
        }
    }
}

/// What a failed call came to. `call` names it in the debug log, which gets the causes only.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    call: &str,
    err: &SdkError<E, Response>,
) -> Failure {
    tracing::debug!(error = %crate::exit::causes(err), "{call} failed");
    match err {
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Failure::ConnectTimeout,
        // Only the innermost cause: the SDK's outer layers quote the whole request
        // (`Request { body: SdkBody … }`).
        SdkError::DispatchFailure(_) => Failure::Connect(crate::exit::root_cause(err)),
        SdkError::TimeoutError(_) => Failure::NoAnswer,
        SdkError::ConstructionFailure(_) => Failure::NotBuilt(crate::exit::root_cause(err)),
        SdkError::ServiceError(_) => Failure::Service(Answer::of(err)),
        _ => Failure::Unreadable(Answer::of(err)),
    }
}

/// A failure of a call whose refusal can mean only one thing (`GetCallerIdentity`, IAM's key
/// calls): refused, unreachable or answered badly, with the error code if there is one and a
/// line of detail. `service` names what should have answered, for an unreadable answer.
pub fn remote(failure: Failure, service: &str) -> (RemoteFailure, Option<String>, String) {
    let answer = match failure {
        Failure::Service(answer) | Failure::Unreadable(answer) => answer,
        unreachable => {
            let detail = unreachable.unreachable_detail().unwrap_or_default();
            return (RemoteFailure::Unreachable, None, detail);
        }
    };
    match (answer.code, answer.status) {
        (code, Some(status @ 500..)) => (RemoteFailure::BadAnswer, code, format!("HTTP {status}")),
        (Some(code), _) if answer.message.is_empty() => {
            (RemoteFailure::Refused, Some(code.clone()), code)
        }
        (Some(code), _) => {
            let detail = format!("{code} ({})", answer.message);
            (RemoteFailure::Refused, Some(code), detail)
        }
        (None, status) => (
            RemoteFailure::BadAnswer,
            None,
            format!(
                "the answer{} could not be read as an {service} response",
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
            ),
        ),
    }
}

/// What an STS error answer says: its HTTP status, and its code and message. The SDK's parser
/// misses the `<ErrorResponse><Errors><AwsError>` envelope some STS emulators use, so the raw body
/// is the fallback, where `Code` sits at any depth.
pub struct Answer {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

impl Answer {
    pub fn of<E: ProvideErrorMetadata>(
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Self {
        let body = err
            .raw_response()
            .and_then(|r| r.body().bytes())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        Self {
            status: err.raw_response().map(|r| r.status().as_u16()),
            code: err
                .as_service_error()
                .and_then(ProvideErrorMetadata::code)
                .map(str::to_owned)
                .or_else(|| xml_element(&body, "Code")),
            message: err
                .as_service_error()
                .and_then(ProvideErrorMetadata::message)
                .map(str::to_owned)
                .or_else(|| xml_element(&body, "Message"))
                .unwrap_or_default(),
        }
    }
}

/// The text of the first `<name>` element at any depth, with XML's five entities decoded. AwsError
/// envelopes are flat text elements, so a search suffices where a parser would be overkill.
fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&format!("</{name}>"))?;
    let text = body[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_both_envelopes() {
        let validation = "<ErrorResponse><AwsError><Type>Sender</Type><Code>ValidationError</Code><Message>1 validation error: DurationSeconds</Message></AwsError></ErrorResponse>";
        let auth = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Errors><AwsError><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is not authorized &amp; &apos;denied&apos;</Message></AwsError></Errors></ErrorResponse>";
        assert_eq!(
            xml_element(validation, "Code").as_deref(),
            Some("ValidationError")
        );
        assert_eq!(xml_element(auth, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(
            xml_element(auth, "Message").as_deref(),
            Some("User: arn:aws:iam::1:user/x is not authorized & 'denied'")
        );
        assert_eq!(xml_element("<html>502</html>", "Code"), None);
    }
}
