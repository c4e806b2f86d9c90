//! The catalogue of tools: what taskbridge knows of each tool besides its code (its
//! name and slug, how people sign in, the settings that say where it lives, what the
//! details page tells people), side by side, and the connector that talks to it.

use super::asana::Asana;
use super::basecamp::Basecamp;
use super::github::GitHub;
use super::intellinote::Intellinote;
use super::jira::Jira;
use super::pivotal::PivotalTracker;
use super::salesforce::Salesforce;
use super::{AuthKind, Connector, ProviderKind};
use crate::catalogue::Subject;

/// A setting that says where a tool lives: its variable, and the real tool's address.
#[derive(Debug, Clone, Copy)]
pub struct Address {
    pub var: &'static str,
    pub default: &'static str,
}

/// One entry of the catalogue of tools: what taskbridge knows of a tool besides its
/// code. Adding a tool is its connector module, its sandbox module, a [`ProviderKind`]
/// variant and its entry here (see `docs/adding-a-tool.md`).
pub struct ToolEntry {
    /// The short name used in URLs and the database.
    pub slug: &'static str,
    /// The tool's name as people know it.
    pub name: &'static str,
    /// How people sign in; an OAuth tool's client is read from
    /// [`ToolEntry::client_vars`].
    pub auth: AuthKind,
    /// Where people sign in, or the API for a tool without OAuth.
    pub base: Address,
    /// Where the API is, when that is not under `base`.
    pub api: Option<Address>,
    /// For a tool whose sign-in must reach at least one account (a Basecamp account, a
    /// Jira site) to have anything to sync, what a sign-in that reaches none is told; a
    /// tool whose people are their own account has none.
    pub no_accounts: Option<&'static str>,
    /// One line on Company Integrations.
    pub tagline: &'static str,
    /// The details page: what it brings in.
    pub does: &'static str,
    /// The details page: what turning it on needs.
    pub needs: &'static str,
    pub connector: &'static dyn Connector,
}

impl ToolEntry {
    /// Whether a sign-in must reach at least one account to have anything to sync.
    pub fn needs_an_account(&self) -> bool {
        self.no_accounts.is_some()
    }

    /// The tool as the words of its problems name it.
    pub fn subject(&self) -> Subject<'static> {
        Subject {
            name: self.name,
            client_vars: self.client_vars(),
            no_accounts: self.no_accounts,
        }
    }

    /// `TASKBRIDGE_<TOOL>_CLIENT_ID` and `_CLIENT_SECRET`, the OAuth client registered
    /// with an OAuth tool; none for a tool whose people paste an API token.
    pub fn client_vars(&self) -> Option<(String, String)> {
        let tool = self.slug.to_ascii_uppercase();
        (self.auth == AuthKind::OAuth).then(|| {
            (
                format!("TASKBRIDGE_{tool}_CLIENT_ID"),
                format!("TASKBRIDGE_{tool}_CLIENT_SECRET"),
            )
        })
    }
}

impl ProviderKind {
    /// The tool's catalogue entry.
    pub fn entry(self) -> &'static ToolEntry {
        match self {
            Self::Asana => &ASANA,
            Self::Basecamp => &BASECAMP,
            Self::GitHub => &GITHUB,
            Self::Intellinote => &INTELLINOTE,
            Self::Jira => &JIRA,
            Self::PivotalTracker => &PIVOTAL_TRACKER,
            Self::Salesforce => &SALESFORCE,
        }
    }

    /// How to talk to the tool.
    pub fn connector(self) -> &'static dyn Connector {
        self.entry().connector
    }
}

/// Asana in the catalogue of tools.
static ASANA: ToolEntry = ToolEntry {
    slug: "asana",
    name: "Asana",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_ASANA_URL",
        default: "https://app.asana.com",
    },
    api: None,
    no_accounts: None,
    tagline: "Open tasks assigned to you in your Asana workspaces.",
    does: "Brings in the open Asana tasks assigned to you in each of your workspaces, with their project, due date and a link back to Asana.",
    needs: "An Asana account. Each person signs in with their own Asana login and allows taskbridge to read tasks, users and workspaces; the tasks of every workspace they belong to are synced.",
    connector: &Asana,
};

/// Basecamp in the catalogue of tools.
static BASECAMP: ToolEntry = ToolEntry {
    slug: "basecamp",
    name: "Basecamp",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_BASECAMP_LAUNCHPAD_URL",
        default: "https://launchpad.37signals.com",
    },
    api: None,
    no_accounts: Some("The Basecamp login you used does not reach any Basecamp 3 or 4 account."),
    tagline: "To-dos assigned to you in Basecamp projects.",
    does: "Brings in the to-dos assigned to you in your Basecamp projects (Basecamp 3 and 4), with their project, due date and a link back to Basecamp.",
    needs: "A Basecamp account. Each person signs in with their own Basecamp login through 37signals Launchpad; when one login reaches several Basecamp accounts, the person chooses which one to sync.",
    connector: &Basecamp,
};

/// GitHub in the catalogue of tools.
static GITHUB: ToolEntry = ToolEntry {
    slug: "github",
    name: "GitHub",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_GITHUB_URL",
        default: "https://github.com",
    },
    api: Some(Address {
        var: "TASKBRIDGE_GITHUB_API_URL",
        default: "https://api.github.com",
    }),
    no_accounts: None,
    tagline: "Issues and pull requests assigned to you on GitHub.",
    does: "Brings in the open issues and pull requests assigned to you across your GitHub repositories, with their repository and a link back to GitHub. Pull requests show with the status \"pull request\".",
    needs: "A GitHub account. Each person signs in with their own GitHub login. Private repositories need the repo scope, which taskbridge asks for at sign-in (GitHub has no read-only scope for them; taskbridge only reads). Organizations that restrict OAuth App access must approve taskbridge before their repositories' issues show.",
    connector: &GitHub,
};

/// Intellinote in the catalogue of tools.
static INTELLINOTE: ToolEntry = ToolEntry {
    slug: "intellinote",
    name: "Intellinote",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_INTELLINOTE_URL",
        default: "https://api.intellinote.net/rest",
    },
    api: None,
    no_accounts: None,
    tagline: "Tasks assigned to you in your Intellinote organization.",
    does: "Brings in the tasks assigned to you in your Intellinote organization, with their workspace and due date.",
    needs: "An Intellinote login with access to your organization. Each person signs in with their own login.",
    connector: &Intellinote,
};

/// Jira in the catalogue of tools.
static JIRA: ToolEntry = ToolEntry {
    slug: "jira",
    name: "Jira",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_JIRA_AUTH_URL",
        default: "https://auth.atlassian.com",
    },
    api: Some(Address {
        var: "TASKBRIDGE_JIRA_API_URL",
        default: "https://api.atlassian.com",
    }),
    no_accounts: Some("The Atlassian account you used does not reach any Jira site (only other products, or none)."),
    tagline: "Open Jira issues assigned to you.",
    does: "Brings in the open Jira issues assigned to you (those not in a Done status), with their key, project, status and due date, and a link back to Jira.",
    needs: "A Jira Cloud site. Each person signs in with their own Atlassian account and allows taskbridge to read their Jira work (read:jira-work), their Jira profile (read:jira-user) and to stay connected (offline_access). When one sign-in reaches several Jira sites, the person chooses which one to sync.",
    connector: &Jira,
};

/// Pivotal Tracker in the catalogue of tools.
static PIVOTAL_TRACKER: ToolEntry = ToolEntry {
    slug: "pivotal",
    name: "Pivotal Tracker",
    auth: AuthKind::ApiToken,
    base: Address {
        var: "TASKBRIDGE_PIVOTAL_API_URL",
        default: "https://www.pivotaltracker.com/services/v5",
    },
    api: None,
    no_accounts: None,
    tagline: "Stories you own in Pivotal Tracker projects.",
    does: "Brings in the stories you own in your Pivotal Tracker projects that are not yet accepted, with their state and a link back to Tracker.",
    needs: "Each person's Pivotal Tracker API token, found at the bottom of their Profile page in Tracker. No sign-in page is involved: paste the token in the API token field.",
    connector: &PivotalTracker,
};

/// Salesforce in the catalogue of tools.
static SALESFORCE: ToolEntry = ToolEntry {
    slug: "salesforce",
    name: "Salesforce",
    auth: AuthKind::OAuth,
    base: Address {
        var: "TASKBRIDGE_SALESFORCE_LOGIN_URL",
        default: "https://login.salesforce.com",
    },
    api: None,
    no_accounts: None,
    tagline: "Open Salesforce Tasks: calls, emails and to-dos.",
    does: "Brings in the open Salesforce Tasks assigned to you (calls, emails and to-dos), with their status, due date and related record.",
    needs: "A Salesforce edition with API access: Enterprise, Unlimited, Performance or Developer Edition, or Professional Edition with the API add-on. Group and Contact Manager editions have no API access. Each person also needs the \"API Enabled\" permission.",
    connector: &Salesforce,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Problem;

    #[test]
    fn a_tool_not_set_up_names_its_own_client_variables() {
        let told = Problem::NotConfigured.told(ProviderKind::Basecamp.entry().subject());
        assert!(
            told.fix
                .contains("TASKBRIDGE_BASECAMP_CLIENT_ID and TASKBRIDGE_BASECAMP_CLIENT_SECRET"),
            "{}",
            told.fix
        );
        let none = Problem::NotConfigured.told(ProviderKind::PivotalTracker.entry().subject());
        assert!(!none.fix.contains("CLIENT_ID"), "{}", none.fix);
    }
}
