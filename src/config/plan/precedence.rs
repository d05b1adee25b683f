//! Where each value of a plan comes from, table-driven: for every setting the tool's settings
//! file holds, every combination of a flag, the environment (region only), the profile's key and
//! the settings file, against the documented order. The README's table is this one.

use super::*;
use crate::settings::Settings;

const CONFIG: &str = r"
[profile contractor]
region = us-west-1

[profile bare]
role_arn = arn:aws:iam::222222222222:role/bare
source_profile = contractor
mfa_serial = arn:aws:iam::111111111111:mfa/me

[profile keyed]
role_arn = arn:aws:iam::222222222222:role/keyed
source_profile = contractor
mfa_serial = arn:aws:iam::111111111111:mfa/me
role_session_name = from-profile
duration_seconds = 7200
region = eu-west-1
mfa_process = profile-otp
mfa_session_duration = 8h

[profile chained]
role_arn = arn:aws:iam::333333333333:role/deep
source_profile = bare
";
const CREDENTIALS: &str =
    "[contractor]\naws_access_key_id = AKIACONTRACTOR\naws_secret_access_key = s\n";

/// Where a value may come from, strongest first for every setting that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Flag,
    Environment,
    Profile,
    Settings,
}

/// One setting: the layers it has, in precedence order, each with the value it gives, and the
/// built-in default when none is set.
struct Row {
    setting: &'static str,
    layers: &'static [(Layer, &'static str)],
    default: &'static str,
    /// Puts `layer`'s value in place (the profile layer is the choice of profile).
    set: fn(Layer, &mut Overrides, &mut Context),
    get: fn(&Plan) -> String,
}

fn hour_text(d: Option<Duration>) -> String {
    d.map_or_else(|| "none".into(), crate::duration::display)
}

const ROWS: &[Row] = &[
    Row {
        setting: "session_name",
        layers: &[
            (Layer::Flag, "from-flag"),
            (Layer::Profile, "from-profile"),
            (Layer::Settings, "from-settings"),
        ],
        default: "alice",
        set: |layer, o, c| match layer {
            Layer::Flag => o.session_name = Some("from-flag".into()),
            Layer::Settings => c.settings.session_name = Some("from-settings".into()),
            _ => {}
        },
        get: |plan| plan.hops[0].session_name.clone(),
    },
    Row {
        setting: "duration",
        layers: &[
            (Layer::Flag, "3h"),
            (Layer::Profile, "2h"),
            (Layer::Settings, "4h"),
        ],
        default: "none",
        set: |layer, o, c| match layer {
            Layer::Flag => o.duration = Some(Duration::from_hours(3)),
            Layer::Settings => c.settings.duration = Some(Duration::from_hours(4)),
            _ => {}
        },
        get: |plan| hour_text(plan.hops[0].duration),
    },
    Row {
        setting: "region",
        layers: &[
            (Layer::Flag, "eu-north-1 Flag"),
            (Layer::Environment, "ap-south-1 Environment"),
            (Layer::Profile, "eu-west-1 Profile"),
            (Layer::Settings, "sa-east-1 Settings"),
        ],
        default: "us-east-1 Default",
        set: |layer, o, c| match layer {
            Layer::Flag => o.region = Some("eu-north-1".into()),
            Layer::Environment => c.env.env_region = Some("ap-south-1".into()),
            Layer::Settings => c.settings.region = Some("sa-east-1".into()),
            Layer::Profile => {}
        },
        get: |plan| format!("{} {:?}", plan.region, plan.region_origin),
    },
    Row {
        setting: "mfa_process",
        layers: &[
            (Layer::Profile, "profile-otp"),
            (Layer::Settings, "settings-otp"),
        ],
        default: "none",
        set: |layer, _, c| {
            if layer == Layer::Settings {
                c.settings.mfa_process = Some("settings-otp".into());
            }
        },
        get: |plan| {
            plan.hops[0]
                .mfa
                .as_ref()
                .and_then(|m| m.process.clone())
                .unwrap_or_else(|| "none".into())
        },
    },
    Row {
        setting: "mfa_session_duration",
        layers: &[(Layer::Profile, "8h"), (Layer::Settings, "20h")],
        default: "12h",
        set: |layer, _, c| {
            if layer == Layer::Settings {
                c.settings.mfa_session_duration = Some(Duration::from_hours(20));
            }
        },
        get: |plan| hour_text(plan.hops[0].mfa.as_ref().map(|m| m.session_duration)),
    },
];

#[test]
fn every_setting_takes_the_strongest_layer_given() {
    let profiles = Profiles::from_texts(CONFIG, CREDENTIALS).unwrap();
    let mut checked = 0;
    for row in ROWS {
        // Every subset of the row's layers.
        for mask in 0..1u32 << row.layers.len() {
            let given: Vec<(Layer, &str)> = row
                .layers
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, layer)| *layer)
                .collect();
            let mut overrides = Overrides::default();
            let mut ctx = Context {
                env: crate::env::Env {
                    user_name: Some("alice".into()),
                    ..crate::env::Env::default()
                },
                settings: Settings::default(),
                ..Context::default()
            };
            let mut profile = "bare";
            for (layer, _) in &given {
                (row.set)(*layer, &mut overrides, &mut ctx);
                if *layer == Layer::Profile {
                    profile = "keyed";
                }
            }
            let plan = Plan::resolve(&profiles, profile, &overrides, &ctx).unwrap();
            // `layers` is strongest first: the first one given wins.
            let expected = given.first().map_or(row.default, |(_, value)| value);
            let layers: Vec<Layer> = given.iter().map(|(l, _)| *l).collect();
            assert_eq!(
                (row.get)(&plan),
                expected,
                "{} with {layers:?} given",
                row.setting
            );
            checked += 1;
        }
    }
    // 8 + 8 + 16 + 4 + 4 combinations.
    assert_eq!(checked, 40);
}

#[test]
fn the_settings_apply_to_every_hop_and_a_chained_one_gets_at_most_an_hour() {
    let profiles = Profiles::from_texts(CONFIG, CREDENTIALS).unwrap();
    let ctx = Context {
        settings: Settings {
            session_name: Some("from-settings".into()),
            duration: Some(Duration::from_hours(4)),
            ..Settings::default()
        },
        ..Context::default()
    };
    let plan = Plan::resolve(&profiles, "chained", &Overrides::default(), &ctx).unwrap();
    let got: Vec<(&str, Option<Duration>)> = plan
        .hops
        .iter()
        .map(|h| (h.session_name.as_str(), h.duration))
        .collect();
    assert_eq!(
        got,
        [
            ("from-settings", Some(Duration::from_hours(4))),
            ("from-settings", Some(Duration::from_hours(1))),
        ]
    );
    // A flag is a request, not a default: a chained target is still held to the hour.
    let overrides = Overrides {
        duration: Some(Duration::from_hours(2)),
        ..Overrides::default()
    };
    assert!(matches!(
        Plan::resolve(&profiles, "chained", &overrides, &ctx),
        Err(ConfigError::DurationOutOfRange { .. })
    ));
}
