//! The CloudFormation template that creates the contractor's role in the client's account. It
//! is built as data and printed as YAML; the external ID is a parameter, so one template serves
//! every launch and the ID travels in the launch link.

use super::policy::{Trust, managed_policy_arn};
use super::validate;
use crate::onboard::OnboardError;
use crate::rules;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Template {
    pub trust: Trust,
    /// Names (AWS managed policies, written with a partition-aware ARN) or ARNs.
    pub managed_policies: Vec<String>,
    pub role_name: Option<String>,
    pub max_session_duration: Option<Duration>,
    /// A default for the `ExternalId` parameter.
    pub external_id: Option<String>,
    /// The user said a role without any policy is what they want (`--no-permissions`).
    pub no_permissions: bool,
}

impl Template {
    pub fn validate(&self) -> Result<(), OnboardError> {
        self.trust.validate()?;
        let partition = validate::partition(&self.trust.partition)?;
        self.managed_policies
            .iter()
            .try_for_each(|p| validate::managed_policy(p, partition))?;
        self.role_name
            .as_deref()
            .map(validate::role_name)
            .transpose()?;
        self.external_id
            .as_deref()
            .map(validate::external_id)
            .transpose()?;
        if let Some(d) = self.max_session_duration
            && !(Duration::from_hours(1)..=Duration::from_hours(12)).contains(&d)
        {
            return Err(crate::rules::InvalidValue {
                profile: None,
                key: "max_session_duration".into(),
                what: "session duration",
                value: crate::duration::display(d),
                reason: "a role's MaxSessionDuration is 1h to 12h".into(),
            }
            .into());
        }
        // Such a role can be assumed, but every call made with it is denied: almost certainly
        // a forgotten flag, unless the client attaches policies itself.
        if self.managed_policies.is_empty() && !self.no_permissions {
            return Err(OnboardError::NoPermissions);
        }
        Ok(())
    }

    /// The template as data.
    pub fn document(&self) -> Result<Value, OnboardError> {
        self.validate()?;
        let mut parameter = json!({
            "Type": "String",
            "Description": "The external ID the contractor sends with every AssumeRole call. Keep it as given.",
            "MinLength": rules::EXTERNAL_ID.min,
            "MaxLength": rules::EXTERNAL_ID.max,
            "AllowedPattern": rules::EXTERNAL_ID.cloudformation_pattern(),
            "ConstraintDescription": rules::EXTERNAL_ID.constraint_description(),
        });
        if let Some(id) = &self.external_id {
            parameter["Default"] = json!(id);
        }
        let mut properties = json!({
            "Description": "Cross-account access for a contractor, created by assume-role",
            "AssumeRolePolicyDocument": self.trust.document(&json!({ "Ref": "ExternalId" })),
        });
        if let Some(name) = &self.role_name {
            properties["RoleName"] = json!(name);
        }
        if let Some(d) = self.max_session_duration {
            properties["MaxSessionDuration"] = json!(d.as_secs());
        }
        if !self.managed_policies.is_empty() {
            let arns: Vec<Value> = self
                .managed_policies
                .iter()
                .map(|p| {
                    if p.starts_with("arn:") {
                        Ok(json!(p))
                    } else {
                        // The partition of the account the stack runs in, not the contractor's.
                        managed_policy_arn(p, "aws").map(|_| json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{p}") }))
                    }
                })
                .collect::<Result<_, _>>()?;
            properties["ManagedPolicyArns"] = Value::Array(arns);
        }
        Ok(json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "A role the contractor can assume with an external ID and the conditions below (created by assume-role)",
            "Parameters": { "ExternalId": parameter },
            "Resources": {
                "ContractorRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": properties,
                }
            },
            "Outputs": {
                "RoleArn": {
                    "Description": "Send this ARN back to the contractor",
                    "Value": { "Fn::GetAtt": ["ContractorRole", "Arn"] },
                }
            }
        }))
    }

    /// The template as YAML, which CloudFormation and `cfn-lint` read.
    pub fn yaml(&self) -> Result<String, OnboardError> {
        let document = self.document()?;
        Ok(serde_yaml_ng::to_string(&document).expect("a JSON value serializes to YAML"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_has_the_parameter_the_role_and_the_output() {
        let t = Template {
            trust: Trust {
                accounts: vec!["111111111111".into()],
                require_mfa: true,
                partition: "aws".into(),
                ..Trust::default()
            },
            managed_policies: vec![
                "ReadOnlyAccess".into(),
                "arn:aws:iam::222222222222:policy/Deploy".into(),
            ],
            role_name: Some("contractor-access".into()),
            max_session_duration: Some(Duration::from_hours(4)),
            external_id: None,
            no_permissions: false,
        };
        let doc = t.document().unwrap();
        assert_eq!(doc["Parameters"]["ExternalId"]["MinLength"], 2);
        // Generated from `rules::EXTERNAL_ID`: the same alphabet STS takes.
        assert_eq!(
            doc["Parameters"]["ExternalId"]["AllowedPattern"],
            "[\\w+=,.@:/-]*"
        );
        assert_eq!(
            doc["Parameters"]["ExternalId"]["ConstraintDescription"],
            "2 to 1224 letters, digits and _+=,.@:/-"
        );
        let props = &doc["Resources"]["ContractorRole"]["Properties"];
        assert_eq!(props["MaxSessionDuration"], 14400);
        assert_eq!(props["RoleName"], "contractor-access");
        assert_eq!(
            props["ManagedPolicyArns"][0]["Fn::Sub"],
            "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"
        );
        assert_eq!(
            props["ManagedPolicyArns"][1],
            "arn:aws:iam::222222222222:policy/Deploy"
        );
        let condition = &props["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
        assert_eq!(
            condition["StringEquals"]["sts:ExternalId"]["Ref"],
            "ExternalId"
        );
        assert_eq!(condition["Bool"]["aws:MultiFactorAuthPresent"], "true");
        assert_eq!(
            doc["Outputs"]["RoleArn"]["Value"]["Fn::GetAtt"][0],
            "ContractorRole"
        );
        let yaml = t.yaml().unwrap();
        assert!(yaml.starts_with("AWSTemplateFormatVersion:"), "{yaml}");
    }

    #[test]
    fn bad_durations_and_names_are_refused() {
        let base = Template {
            trust: Trust {
                accounts: vec!["111111111111".into()],
                partition: "aws".into(),
                ..Trust::default()
            },
            no_permissions: true,
            ..Template::default()
        };
        let t = Template {
            no_permissions: false,
            ..base.clone()
        };
        assert!(matches!(t.document(), Err(OnboardError::NoPermissions)));
        let t = Template {
            managed_policies: vec!["arn:aws-cn:iam::aws:policy/ReadOnlyAccess".into()],
            ..base.clone()
        };
        assert!(
            t.document()
                .unwrap_err()
                .to_string()
                .contains("partition `aws-cn`")
        );
        let t = Template {
            max_session_duration: Some(Duration::from_mins(30)),
            ..base.clone()
        };
        assert!(t.document().unwrap_err().to_string().contains("1h to 12h"));
        let t = Template {
            role_name: Some("has space".into()),
            ..base
        };
        assert!(
            t.document()
                .unwrap_err()
                .to_string()
                .contains("`--role-name`")
        );
    }
}
