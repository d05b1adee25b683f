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
    // An AWS managed policy is named, not passed off as a policy document.
    let ro = env.run(&["onboard", "permissions", "--preset", "read-only"]);
    assert_eq!(ro.ok(), "arn:aws:iam::aws:policy/ReadOnlyAccess\n");
    assert!(
        ro.stderr().contains("not a policy document") && ro.stderr().contains("attach"),
        "{}",
        ro.stderr()
    );
    assert_eq!(
        env.run(&[
            "onboard",
            "permissions",
            "--preset",
            "read-only",
            "--partition",
            "aws-us-gov"
        ])
        .ok(),
        "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess\n"
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
        &["--contractor-account", "111111111111", "--no-permissions"],
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
            "--no-permissions",
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
        let out = env.run_command(lint);
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
    let template = env.run_command(fetch).ok();
    assert!(
        template.contains("AWS::IAM::Role") && template.contains("aws:MultiFactorAuthPresent"),
        "{template}"
    );
    assert!(
        !template.contains(external_id.as_str()),
        "the ID travels in the link, not the template"
    );
    // The contractor's long-term keys sign the upload here; nothing is handed over.
    assert!(!run.stderr().contains("handing over"), "{}", run.stderr());
}

/// Refused onboarding values, before any network call: the arguments after `onboard` (with a
/// `--contractor-account` added) and what the message says.
const REFUSALS: &[(&[&str], &str)] = &[
    (
        &["trust-policy", "--partition", "aws-moon"],
        "`--partition`: `aws-moon` is not a valid partition: it must be one of `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`, `aws-eusc`",
    ),
    (
        &[
            "trust-policy",
            "--contractor-principal",
            "arn:aws-cn:iam::111111111111:user/alice",
        ],
        "`--contractor-principal`: `arn:aws-cn:iam::111111111111:user/alice` is not a valid ARN: it is in partition `aws-cn`",
    ),
    (
        &[
            "cloudformation",
            "--managed-policy",
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
        ],
        "`--managed-policy`",
    ),
    (
        &["trust-policy", "--not-after", "2020-01-01T00:00:00Z"],
        "would make a role nobody can ever assume",
    ),
    (
        &["trust-policy", "--not-after", "next friday"],
        "`--not-after`: `next friday` is not a valid time",
    ),
    (
        &["trust-policy", "--source-ip", "10.0.0.0/33"],
        "`--source-ip`: `10.0.0.0/33`",
    ),
    (
        &["trust-policy", "--source-ip", "10.0.0.300"],
        "`--source-ip`",
    ),
    (&["cloudformation"], "the role would have no permissions"),
    (
        &["publish", "--bucket", "b-u-c", "--profile", "nobody"],
        "the role would have no permissions",
    ),
    (
        &[
            "publish",
            "--bucket",
            "b-u-c",
            "--region",
            "cn-north-1",
            "--managed-policy",
            "ReadOnlyAccess",
        ],
        "`--region`: `cn-north-1` is not a valid region: it belongs to partition `aws-cn`, not `aws`",
    ),
    (
        &[
            "publish",
            "--bucket",
            "b-u-c",
            "--region",
            "us-east-1",
            "--partition",
            "aws-us-gov",
            "--managed-policy",
            "ReadOnlyAccess",
        ],
        "it belongs to partition `aws`, not `aws-us-gov`",
    ),
    (
        &[
            "publish",
            "--bucket",
            "b-u-c",
            "--key",
            "",
            "--managed-policy",
            "ReadOnlyAccess",
        ],
        "`--key`: `` is not a valid object key",
    ),
];

/// Every value that would print a role nobody can use is refused, naming its flag, before any
/// network call (these run without moto).
#[test]
fn onboarding_refuses_what_cannot_work() {
    let env = TestEnv::new();
    let account = ["--contractor-account", "111111111111"];
    for (args, needle) in REFUSALS {
        let mut full = vec!["onboard", args[0]];
        if args[0] != "contractor-policy" && !args.contains(&"--contractor-principal") {
            full.extend(account);
        }
        full.extend_from_slice(&args[1..]);
        let run = env.run(&full);
        assert_eq!(run.code(), Some(3), "{full:?}: {}", run.stderr());
        assert_eq!(run.stdout(), "", "{full:?}");
        assert!(run.stderr().contains(needle), "{full:?}: {}", run.stderr());
        if needle.contains("no permissions") {
            assert!(
                run.stderr().contains("could assume it but do nothing")
                    && run.stderr().contains("hint: ")
                    && run.stderr().contains("`--no-permissions`"),
                "{}",
                run.stderr()
            );
        }
    }
}

#[test]
fn contractor_policy_roles_must_be_in_the_partition() {
    let env = TestEnv::new();
    let run = env.run(&[
        "onboard",
        "contractor-policy",
        "--partition",
        "aws-cn",
        "--role-arn",
        "arn:aws:iam::222222222222:role/x",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("`--role-arn`: `arn:aws:iam::222222222222:role/x` is not a valid ARN: it is in partition `aws`"),
        "{}",
        run.stderr()
    );
    // The right partition's ARNs and regions pass.
    let run = env.run(&[
        "onboard",
        "contractor-policy",
        "--partition",
        "aws-cn",
        "--role-arn",
        "arn:aws-cn:iam::222222222222:role/x",
    ]);
    run.ok();
}

#[test]
fn a_single_source_address_becomes_a_host_block() {
    let env = TestEnv::new();
    let run = env.run(&[
        "onboard",
        "trust-policy",
        "--contractor-account",
        "111111111111",
        "--source-ip",
        "10.0.0.1",
        "--source-ip",
        "2001:db8::1",
        "--not-after",
        "2999-01-01T00:00:00Z",
    ]);
    let policy: serde_json::Value = serde_json::from_str(&run.ok()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["IpAddress"]["aws:SourceIp"],
        serde_json::json!(["10.0.0.1/32", "2001:db8::1/128"])
    );
}

#[test]
fn publish_to_a_missing_bucket_says_so_in_one_sentence() {
    let env = TestEnv::with_moto();
    let run = env.run(&[
        "onboard",
        "publish",
        "--bucket",
        "no-such-bucket-here",
        "--profile",
        "contractor",
        "--contractor-account",
        "111111111111",
        "--managed-policy",
        "ReadOnlyAccess",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().starts_with(
            "assume-role: cannot publish the template to bucket `no-such-bucket-here`: bucket `no-such-bucket-here` does not exist (or is not in your account)\n"
        ),
        "{}",
        run.stderr()
    );
    for dump in [
        "Error {",
        "SdkBody",
        "aws_request_id",
        "ServiceError",
        "handing over",
    ] {
        assert!(!run.stderr().contains(dump), "{dump}: {}", run.stderr());
    }
}

#[test]
fn publish_against_a_silent_endpoint_fails_in_bounded_time() {
    let stub = support::Stub::start(0, "");
    let mut env = TestEnv::with_moto();
    env.set("AWS_ENDPOINT_URL", &stub.url);
    let run = env.run(&[
        "onboard",
        "publish",
        "--bucket",
        "contractor-templates",
        "--profile",
        "contractor",
        "--contractor-account",
        "111111111111",
        "--managed-policy",
        "ReadOnlyAccess",
    ]);
    assert_eq!(run.code(), Some(6), "{}", run.stderr());
    assert!(
        run.elapsed < std::time::Duration::from_secs(40),
        "{:?}",
        run.elapsed
    );
    assert!(
        run.stderr()
            .contains(&format!("no answer from `{}`", stub.url)),
        "{}",
        run.stderr()
    );
    assert!(stub.count() >= 1);
    assert!(!run.stderr().contains("Error {"), "{}", run.stderr());
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
