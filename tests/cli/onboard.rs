//! The client's side: trust policies, permissions, templates and the launch link.

use super::*;

#[test]
fn trust_policy_prints_the_document_and_a_generated_id_on_stderr() {
    let env = TestEnv::new();
    let run = env.run(&[
        "onboard",
        "trust-policy",
        "--contractor-account",
        "111111111111",
        "--require-mfa",
        "--source-ip",
        "203.0.113.0/24",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::111111111111:root"
    );
    assert_eq!(
        statement["Condition"]["Bool"]["aws:MultiFactorAuthPresent"],
        "true"
    );
    assert_eq!(
        statement["Condition"]["IpAddress"]["aws:SourceIp"],
        "203.0.113.0/24"
    );
    let id = statement["Condition"]["StringEquals"]["sts:ExternalId"]
        .as_str()
        .unwrap();
    assert!(id.len() >= 32, "{id}");
    assert!(
        run.stderr().contains(id),
        "the generated ID must be shown: {}",
        run.stderr()
    );
    // A given ID is used as is, and nothing is said about generating one.
    let run = env.run(&[
        "onboard",
        "trust-policy",
        "--contractor-principal",
        "arn:aws:iam::111111111111:user/alice",
        "--external-id",
        "given-id-1",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "given-id-1"
    );
    assert_eq!(run.stderr(), "");
}

#[test]
fn onboarding_refuses_bad_accounts_and_arns_by_name() {
    let env = TestEnv::new();
    for (args, needle) in [
        (
            &["onboard", "trust-policy", "--contractor-account", "12345"][..],
            "`--contractor-account`: `12345` is not a valid AWS account ID",
        ),
        (
            &[
                "onboard",
                "trust-policy",
                "--contractor-principal",
                "arn:aws:iam::111111111111:group/x",
            ],
            "`--contractor-principal`",
        ),
        (&["onboard", "trust-policy"], "--contractor-account ID"),
        (
            &[
                "onboard",
                "contractor-policy",
                "--role-arn",
                "arn:aws:iam::2222:role/x",
            ],
            "`--role-arn`: `arn:aws:iam::2222:role/x` is not a valid role ARN",
        ),
        (
            &[
                "onboard",
                "cloudformation",
                "--contractor-account",
                "111111111111",
                "--managed-policy",
                "arn:aws:s3:::x",
            ],
            "`--managed-policy`",
        ),
        (
            &[
                "profile",
                "add",
                "p",
                "--role-arn",
                "arn:aws:iam::222:role/x",
                "--source-profile",
                "default",
            ],
            "`--role-arn`",
        ),
    ] {
        let run = env.run(args);
        assert_eq!(run.code(), Some(3), "{args:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "");
        assert!(run.stderr().contains(needle), "{args:?}: {}", run.stderr());
    }
}

#[test]
fn permissions_presets_and_the_contractor_policy() {
    let env = TestEnv::new();
    let ro: serde_json::Value = serde_json::from_str(
        &env.run(&["onboard", "permissions", "--preset", "read-only"])
            .ok(),
    )
    .unwrap();
    assert_eq!(
        ro["ManagedPolicyArn"],
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    );
    let put: serde_json::Value = serde_json::from_str(
        &env.run(&[
            "onboard",
            "permissions",
            "--preset",
            "s3-put",
            "--bucket",
            "uploads",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(put["Statement"][0]["Action"], "s3:PutObject");
    assert_eq!(put["Statement"][0]["Resource"], "arn:aws:s3:::uploads/*");
    assert_eq!(
        env.run(&["onboard", "permissions", "--preset", "s3-put"])
            .code(),
        Some(2)
    );
    let own: serde_json::Value = serde_json::from_str(
        &env.run(&[
            "onboard",
            "contractor-policy",
            "--role-arn",
            "arn:aws:iam::222222222222:role/a",
            "--role-arn",
            "arn:aws:iam::333333333333:role/b",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(
        own["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:iam::222222222222:role/a",
            "arn:aws:iam::333333333333:role/b"
        ])
    );
}

#[test]
fn cfn_lint_accepts_the_templates() {
    let env = TestEnv::new();
    let combos: [&[&str]; 4] = [
        &["--contractor-account", "111111111111"],
        &[
            "--contractor-account",
            "111111111111",
            "--require-mfa",
            "--managed-policy",
            "ReadOnlyAccess",
            "--max-session-duration",
            "4h",
        ],
        &[
            "--contractor-principal",
            "arn:aws:iam::111111111111:user/alice",
            "--contractor-account",
            "333333333333",
            "--source-ip",
            "203.0.113.0/24",
            "--source-ip",
            "2001:db8::/32",
            "--not-after",
            "2027-06-30T23:59:59Z",
            "--role-name",
            "contractor-access",
            "--external-id",
            "preset-id-42",
        ],
        &[
            "--contractor-account",
            "111111111111",
            "--managed-policy",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "--managed-policy",
            "SecurityAudit",
        ],
    ];
    for (i, combo) in combos.iter().enumerate() {
        let mut args = vec!["onboard", "cloudformation"];
        args.extend_from_slice(combo);
        let yaml = env.run(&args).ok();
        let path = env.work_dir().join(format!("template-{i}.yaml"));
        std::fs::write(&path, &yaml).unwrap();
        let mut lint = env.command(venv_bin("cfn-lint"));
        lint.arg(&path);
        let out = support::run_with_timeout(lint);
        // cfn-lint's exit code is a bit set: 2 means errors, 4 warnings, 8 informational, and
        // anything else (1, 32: a crash or bad usage) is no verdict at all.
        let code = out.code().unwrap();
        assert!(
            [0, 4, 8, 12].contains(&code),
            "cfn-lint said {code} for {combo:?}:\n{}{}\n{yaml}",
            out.stdout(),
            out.stderr()
        );
        assert!(
            yaml.contains("Default:"),
            "the parameter has a default: {yaml}"
        );
        assert!(
            yaml.contains("ExternalId")
                && yaml.contains("RoleArn")
                && yaml.contains("AWS::IAM::Role"),
            "{yaml}"
        );
    }
}

#[test]
fn publish_uploads_the_template_and_prints_the_launch_link() {
    let env = TestEnv::with_moto();
    let fx = moto();
    let run = env.run(&[
        "onboard",
        "publish",
        "--bucket",
        &fx.contractor_bucket,
        "--stack-name",
        "acme-access",
        "--profile",
        "contractor",
        "--region",
        "eu-west-1",
        "--contractor-account",
        "111111111111",
        "--require-mfa",
        "--managed-policy",
        "ReadOnlyAccess",
    ]);
    let out = run.ok();
    let url = out
        .lines()
        .find(|l| l.starts_with("https://console.aws.amazon.com/cloudformation/home?"))
        .expect("a launch link");
    let (_, fragment) = url.split_once("#/stacks/quickcreate?").unwrap();
    let params: BTreeMap<String, String> = fragment
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), percent_decode(v))
        })
        .collect();
    assert!(url.contains("region=eu%2Dwest%2D1"), "{url}");
    assert_eq!(params["stackName"], "acme-access");
    let external_id = &params["param_ExternalId"];
    assert!(external_id.len() >= 32);
    assert!(out.contains(&format!("assume-role profile add 'acme-access' --role-arn <RoleArn from the client> --source-profile 'contractor' --external-id '{external_id}' --region 'eu-west-1' --mfa-serial")), "{out}");
    // The template URL is presigned for the object (moto cannot serve presigned URLs while its
    // checks are on, so the object itself is read with the contractor's keys).
    let template_url = &params["templateURL"];
    assert!(
        template_url.contains("X-Amz-Signature=")
            && template_url.contains("contractor-templates/assume-role/acme-access.yaml"),
        "{template_url}"
    );
    assert!(
        out.contains("Template:    s3://contractor-templates/assume-role/acme-access.yaml"),
        "{out}"
    );
    let mut fetch = env.command(support::python());
    fetch.args([
        "-c",
        "import sys, boto3; s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3]); sys.stdout.write(s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])['Body'].read().decode())",
        &fx.endpoint, &fx.contractor.access_key_id, &fx.contractor.secret_access_key, &fx.contractor_bucket, "assume-role/acme-access.yaml",
    ]);
    let template = support::run_with_timeout(fetch).ok();
    assert!(
        template.contains("AWS::IAM::Role") && template.contains("aws:MultiFactorAuthPresent"),
        "{template}"
    );
    assert!(
        !template.contains(external_id.as_str()),
        "the ID travels in the link, not the template"
    );
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
