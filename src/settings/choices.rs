//! The values a setting can choose from, where more than one layer needs them: `keys_backend`
//! (the key store's, layer 3) and `browser` (`console`'s, layer 7) are read here, in the
//! settings (layer 2), so the types live here too and the higher layers re-export them.

use serde::{Deserialize, Serialize};

/// Where a key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The OS secret store: macOS Keychain, Windows Credential Manager, the Secret Service.
    Os,
    /// A passphrase-encrypted file per key (age, scrypt) under the data directory.
    File,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Os => "os",
            Backend::File => "file",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "os" => Some(Backend::Os),
            "file" => Some(Backend::File),
            _ => None,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which browser opens the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    /// `$BROWSER`, else the system's opener (`xdg-open`, `open`); no isolation.
    Default,
    /// Google Chrome, with a user-data directory of its own per profile.
    Chrome,
    /// Chromium, likewise.
    Chromium,
    /// Brave, likewise.
    Brave,
    /// Microsoft Edge, likewise.
    Edge,
    /// Firefox, with a container per profile (needs the "Open external links in a container"
    /// extension, with Multi-Account Containers).
    Firefox,
}

impl BrowserKind {
    pub const NAMES: &'static str = "`chrome`, `chromium`, `brave`, `edge`, `firefox` or `default`";

    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Default => "default",
            BrowserKind::Chrome => "chrome",
            BrowserKind::Chromium => "chromium",
            BrowserKind::Brave => "brave",
            BrowserKind::Edge => "edge",
            BrowserKind::Firefox => "firefox",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            BrowserKind::Default,
            BrowserKind::Chrome,
            BrowserKind::Chromium,
            BrowserKind::Brave,
            BrowserKind::Edge,
            BrowserKind::Firefox,
        ]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(text.trim()))
    }

    /// Executables to try, in order, when `ASSUME_ROLE_BROWSER_PATH` names none.
    pub fn executables(self) -> &'static [&'static str] {
        if cfg!(target_os = "macos") {
            return match self {
                BrowserKind::Chrome => {
                    &["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"]
                }
                BrowserKind::Chromium => &["/Applications/Chromium.app/Contents/MacOS/Chromium"],
                BrowserKind::Brave => {
                    &["/Applications/Brave Browser.app/Contents/MacOS/Brave Browser"]
                }
                BrowserKind::Edge => {
                    &["/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"]
                }
                BrowserKind::Firefox => &["/Applications/Firefox.app/Contents/MacOS/firefox"],
                BrowserKind::Default => &[],
            };
        }
        if cfg!(windows) {
            return match self {
                BrowserKind::Chrome => &[
                    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
                    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
                ],
                BrowserKind::Chromium => &["chromium.exe"],
                BrowserKind::Brave => {
                    &[r"C:\Program Files\BraveSoftware\Brave-Browser\Application\brave.exe"]
                }
                BrowserKind::Edge => &[
                    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
                    r"C:\Program Files\Microsoft\Edge\Application\msedge.exe",
                ],
                BrowserKind::Firefox => &[r"C:\Program Files\Mozilla Firefox\firefox.exe"],
                BrowserKind::Default => &[],
            };
        }
        match self {
            BrowserKind::Chrome => &["google-chrome-stable", "google-chrome", "chrome"],
            BrowserKind::Chromium => &["chromium", "chromium-browser"],
            BrowserKind::Brave => &["brave-browser", "brave"],
            BrowserKind::Edge => &["microsoft-edge-stable", "microsoft-edge", "msedge"],
            BrowserKind::Firefox => &["firefox"],
            BrowserKind::Default => &[],
        }
    }
}
