//! The policy documents of the handshake, as JSON values with a fixed, tested structure.

use super::validate;
use crate::onboard::OnboardError;
use serde_json::{Map, Value, json};

/// Who may assume the role, and under which conditions.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Whole accounts (`arn:aws:iam::ID:root`): the contractor decides which of its identities.
    pub accounts: Vec<String>,
    /// Specific users or roles: least privilege.
    pub principals: Vec<String>,
    pub require_mfa: bool,
    /// CIDR blocks, as [`validate::source_ip`] writes them.
    pub source_ips: Vec<String>,
    /// RFC 3339: access ends then, whatever happens to the role.
    pub not_after: Option<String>,
    pub partition: String,
}

impl Trust {
    /// Checks every value; at least one principal is required.
    pub fn validate(&self) -> Result<(), OnboardError> {
        if self.accounts.is_empty() && self.principals.is_empty() {
            return Err(crate::rules::InvalidValue {
                profile: None,
                key: "contractor_account".into(),
                what: "trust policy",
                value: String::new(),
                reason: "name who may assume the role with `--contractor-account ID` or `--contractor-principal ARN`".into(),
            }.into());
        }
        let partition = validate::partition(&self.partition)?;
        self.accounts
            .iter()
            .try_for_each(|a| validate::account_id(a))?;
        self.principals
            .iter()
            .try_for_each(|p| validate::principal_arn(p, partition))?;
        for ip in &self.source_ips {
            validate::source_ip(ip)?;
        }
        if let Some(time) = &self.not_after {
            validate::not_after(time, std::time::SystemTime::now())?;
        }
        Ok(())
    }

    fn principal(&self) -> Value {
        let mut arns: Vec<String> = self
            .accounts
            .iter()
            .map(|a| format!("arn:{}:iam::{a}:root", self.partition))
            .collect();
        arns.extend(self.principals.iter().cloned());
        if arns.len() == 1 {
            json!({ "AWS": arns[0] })
        } else {
            json!({ "AWS": arns })
        }
    }

    /// The trust policy. `external_id` is the value to require: a literal, or a CloudFormation
    /// reference to the template's parameter.
    pub fn document(&self, external_id: &Value) -> Value {
        let mut condition = Map::new();
        condition.insert(
            "StringEquals".into(),
            json!({ "sts:ExternalId": external_id }),
        );
        if self.require_mfa {
            condition.insert(
                "Bool".into(),
                json!({ "aws:MultiFactorAuthPresent": "true" }),
            );
        }
        if !self.source_ips.is_empty() {
            let ips: Value = if self.source_ips.len() == 1 {
                json!(self.source_ips[0])
            } else {
                json!(self.source_ips)
            };
            condition.insert("IpAddress".into(), json!({ "aws:SourceIp": ips }));
        }
        if let Some(time) = &self.not_after {
            condition.insert("DateLessThan".into(), json!({ "aws:CurrentTime": time }));
        }
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": self.principal(),
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }]
        })
    }
}

/// What the contractor attaches to its own identity: `sts:AssumeRole` on exactly these roles, all
/// in `partition` (no role can be assumed across partitions).
pub fn contractor_policy(role_arns: &[String], partition: &str) -> Result<Value, OnboardError> {
    let partition = validate::partition(partition)?;
    role_arns
        .iter()
        .try_for_each(|arn| validate::role_arn_in(arn, "--role-arn", partition))?;
    let resource: Value = if role_arns.len() == 1 {
        json!(role_arns[0])
    } else {
        json!(role_arns)
    };
    Ok(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": resource,
        }]
    }))
}

/// Only `s3:PutObject` into one bucket: the classic contractor-upload grant.
pub fn s3_put(bucket: &str, partition: &str) -> Result<Value, OnboardError> {
    validate::partition(partition)?;
    validate::bucket(bucket)?;
    Ok(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": format!("arn:{partition}:s3:::{bucket}/*"),
        }]
    }))
}

/// The ARN of an AWS managed policy, or the ARN given.
pub fn managed_policy_arn(name_or_arn: &str, partition: &str) -> Result<String, OnboardError> {
    validate::managed_policy(name_or_arn, validate::partition(partition)?)?;
    Ok(if name_or_arn.starts_with("arn:") {
        name_or_arn.to_owned()
    } else {
        format!("arn:{partition}:iam::aws:policy/{name_or_arn}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust() -> Trust {
        Trust {
            accounts: vec!["111111111111".into()],
            partition: "aws".into(),
            ..Trust::default()
        }
    }

    #[test]
    fn minimal_trust_policy_requires_the_external_id() {
        assert_eq!(
            trust().document(&json!("ext-1")),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}
                }]
            })
        );
    }

    #[test]
    fn every_option_adds_its_condition() {
        let t = Trust {
            accounts: vec!["111111111111".into()],
            principals: vec!["arn:aws:iam::333333333333:user/alice".into()],
            require_mfa: true,
            source_ips: vec!["203.0.113.0/24".into(), "2001:db8::/32".into()],
            not_after: Some("2027-06-30T23:59:59Z".into()),
            partition: "aws".into(),
        };
        assert_eq!(
            t.document(&json!({"Ref": "ExternalId"})),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:user/alice"]},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}},
                        "Bool": {"aws:MultiFactorAuthPresent": "true"},
                        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                        "DateLessThan": {"aws:CurrentTime": "2027-06-30T23:59:59Z"}
                    }
                }]
            })
        );
    }

    #[test]
    fn single_values_stay_scalars() {
        let t = Trust {
            source_ips: vec!["198.51.100.7/32".into()],
            ..trust()
        };
        assert_eq!(
            t.document(&json!("x"))["Statement"][0]["Condition"]["IpAddress"]["aws:SourceIp"],
            "198.51.100.7/32"
        );
    }

    #[test]
    fn a_trust_policy_needs_someone_to_trust() {
        let err = Trust::default().validate().unwrap_err().to_string();
        assert!(err.contains("--contractor-account"), "{err}");
        let err = Trust {
            accounts: vec!["1234".into()],
            ..trust()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`1234` is not a valid AWS account ID"),
            "{err}"
        );
    }

    #[test]
    fn contractor_and_s3_policies() {
        assert_eq!(
            contractor_policy(&["arn:aws:iam::222222222222:role/contractor".into()], "aws")
                .unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/contractor"}]})
        );
        assert!(contractor_policy(&["arn:aws:iam::222:role/x".into()], "aws").is_err());
        assert!(contractor_policy(&["arn:aws:iam::222222222222:role/x".into()], "aws-cn").is_err());
        assert_eq!(
            s3_put("uploads", "aws").unwrap()["Statement"][0],
            json!({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::uploads/*"})
        );
        assert_eq!(
            managed_policy_arn("ReadOnlyAccess", "aws-cn").unwrap(),
            "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"
        );
    }
}
