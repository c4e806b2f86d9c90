//! The sandbox's sample people, accounts and tasks: deterministic, due dates relative to today.

use serde::Serialize;
use time::Date;

use crate::connectors::ProviderKind;

/// How a sample person's tool misbehaves, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Everything works.
    Normal,
    /// The access token from sign-in is already expired: API calls answer 401 until refreshed.
    Expired,
    /// Sign-in works; task calls answer 401 and refreshing answers `invalid_grant`.
    Revoked,
    /// Task calls answer 429 with `Retry-After: 2`, then work for a minute.
    RateLimited,
    /// Task calls answer 500.
    ServerErrors,
    /// Task calls answer after [`super::SLOW_RESPONSE`].
    Slow,
    /// Salesforce Group Edition: the REST API answers 403 `API_DISABLED_FOR_ORG`.
    ApiDisabled,
    /// Salesforce org over its allowance: the REST API answers 403 `REQUEST_LIMIT_EXCEEDED`.
    RequestLimit,
}

impl Behaviour {
    /// What the person's name promises, for the sign-in pages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Normal => "Works normally.",
            Self::Expired => "The access token is already expired: the first API call answers 401, refreshing works.",
            Self::Revoked => "Signing in works; task calls answer 401 and refreshing answers invalid_grant (access revoked).",
            Self::RateLimited => "Task calls answer 429 with Retry-After: 2; after waiting, they work for a minute.",
            Self::ServerErrors => "Task calls answer 500 Internal Server Error.",
            Self::Slow => "Task calls answer after 20 seconds, longer than taskbridge waits.",
            Self::ApiDisabled => "Group Edition org: identity works, the REST API answers 403 API_DISABLED_FOR_ORG.",
            Self::RequestLimit => "The org used up its API requests: REST calls answer 403 REQUEST_LIMIT_EXCEEDED.",
        }
    }
}

/// A sample person in one tool.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    /// The tool's user id (Launchpad identity, Intellinote user, Tracker person, Salesforce user).
    pub id: String,
    /// Basecamp only: the person's id inside accounts, unlike the Launchpad identity id.
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    /// Pivotal Tracker only: the API token to paste.
    pub token: Option<String>,
    pub behaviour: Behaviour,
    /// Overrides the behaviour's description where the person is special in another way.
    pub note: Option<&'static str>,
    pub accounts: Vec<String>,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn description(&self) -> &'static str {
        self.note.unwrap_or(self.behaviour.describe())
    }
}

/// A Basecamp account, Intellinote or Salesforce org.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Basecamp `product` ("bc3", "bcx"); Salesforce `OrganizationType`.
    pub product: String,
    /// Basecamp only: an older deployment without `/my/assignments.json`.
    pub legacy: bool,
}

/// A project, workspace or (Salesforce) related record.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub account: String,
}

/// A task assigned to one sample person.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub account: String,
    pub project: String,
    pub title: String,
    pub due_on: Option<Date>,
    /// The assignee's `Person::id`.
    pub assignee: String,
    pub closed: bool,
    pub status: String,
    pub updated_at: String,
    /// GitHub only: a pull request rather than an issue.
    pub pull_request: bool,
}

/// Everything one emulated tool knows.
#[derive(Debug, Clone)]
pub struct Tool {
    pub accounts: Vec<Account>,
    pub projects: Vec<Project>,
    pub people: Vec<Person>,
    pub tasks: Vec<Task>,
}

impl Tool {
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// A sample person named by email or id, as the control API takes them.
    pub fn person_named(&self, who: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.email == who || p.id == who)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }
}

pub(super) const TITLES: [&str; 30] = [
    "Draft the homepage copy",
    "Review the new wireframes",
    "Fix the login redirect",
    "Prepare the quarterly report",
    "Call the printer about the brochures",
    "Update the pricing page",
    "Write release notes",
    "Plan the team offsite",
    "Renew the SSL certificate",
    "Interview frontend candidates",
    "Clean up the staging database",
    "Send the proposal to Globex",
    "Book the meeting room for Friday",
    "Test the checkout on mobile",
    "Translate the onboarding emails",
    "Order new laptops",
    "Migrate the wiki",
    "Set up the analytics dashboard",
    "Archive last year's invoices",
    "Review the contract draft",
    "Design the new logo variants",
    "Write the API documentation",
    "Follow up with the accountant",
    "Reply to the support backlog",
    "Check the backup restore",
    "Collect feedback from the pilot",
    "Update the team handbook",
    "Benchmark the search page",
    "Sort out the parking permits",
    "Prepare the board slides",
];

/// Days from today for successive tasks; `None` means no due date. Some are overdue.
pub(super) const DUE_IN: [Option<i64>; 10] = [
    Some(-5),
    Some(2),
    None,
    Some(-1),
    Some(7),
    Some(0),
    Some(14),
    None,
    Some(30),
    Some(4),
];

pub(super) struct PersonSpec {
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) email: &'static str,
    pub(super) username: &'static str,
    pub(super) token: Option<&'static str>,
    pub(super) behaviour: Behaviour,
    pub(super) note: Option<&'static str>,
    pub(super) accounts: &'static [&'static str],
}

pub(super) const fn spec(
    first: &'static str,
    last: &'static str,
    email: &'static str,
    username: &'static str,
    behaviour: Behaviour,
) -> PersonSpec {
    PersonSpec {
        first,
        last,
        email,
        username,
        token: None,
        behaviour,
        note: None,
        accounts: &[],
    }
}

pub(super) const JANE: PersonSpec = spec(
    "Jane",
    "Doe",
    "jane@acme.test",
    "janedoe",
    Behaviour::Normal,
);
pub(super) const JOHN: PersonSpec = spec(
    "John",
    "Roe",
    "john@acme.test",
    "johnroe",
    Behaviour::Normal,
);
pub(super) const EDDIE: PersonSpec = spec(
    "Expired",
    "Eddie",
    "eddie.expired@acme.test",
    "eddie",
    Behaviour::Expired,
);
pub(super) const RITA: PersonSpec = spec(
    "Revoked",
    "Rita",
    "rita.revoked@acme.test",
    "rita",
    Behaviour::Revoked,
);
pub(super) const ROB: PersonSpec = spec(
    "Rate-limited",
    "Rob",
    "rob.ratelimited@acme.test",
    "rob",
    Behaviour::RateLimited,
);
pub(super) const SID: PersonSpec = spec(
    "Server-error",
    "Sid",
    "sid.servererror@acme.test",
    "sid",
    Behaviour::ServerErrors,
);
pub(super) const SALLY: PersonSpec = spec(
    "Slow",
    "Sally",
    "sally.slow@acme.test",
    "sally",
    Behaviour::Slow,
);

pub(super) struct Builder {
    pub(super) kind: ProviderKind,
    pub(super) today: Date,
    pub(super) tool: Tool,
    pub(super) seq: u64,
}

impl Builder {
    pub(super) fn new(kind: ProviderKind, today: Date) -> Self {
        Self {
            kind,
            today,
            tool: Tool {
                accounts: Vec::new(),
                projects: Vec::new(),
                people: Vec::new(),
                tasks: Vec::new(),
            },
            seq: 0,
        }
    }

    pub(super) fn account(&mut self, id: &str, name: &str, product: &str, legacy: bool) {
        self.tool.accounts.push(Account {
            id: id.into(),
            name: name.into(),
            product: product.into(),
            legacy,
        });
    }

    pub(super) fn project(&mut self, id: &str, name: &str, account: &str) {
        self.tool.projects.push(Project {
            id: id.into(),
            name: name.into(),
            account: account.into(),
        });
    }

    pub(super) fn person(&mut self, s: &PersonSpec, accounts: &[&str]) -> String {
        let (id, person_id) = (super::stand_in(self.kind).person_ids)(self.tool.people.len());
        let accounts = if s.accounts.is_empty() {
            accounts
        } else {
            s.accounts
        };
        self.tool.people.push(Person {
            id: id.clone(),
            person_id,
            first_name: s.first.into(),
            last_name: s.last.into(),
            email: s.email.into(),
            username: s.username.into(),
            token: s.token.map(str::to_string),
            behaviour: s.behaviour,
            note: s.note,
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
        });
        id
    }

    pub(super) fn status(&self, closed: bool) -> String {
        let emulated = super::stand_in(self.kind);
        let open = emulated.open[self.seq as usize % emulated.open.len()];
        if closed { emulated.closed } else { open }.to_string()
    }

    /// `n` tasks for `person` spread over `projects`; every `closed_every`-th one is done.
    pub(super) fn tasks(&mut self, person: &str, projects: &[&str], n: usize, closed_every: usize) {
        for i in 0..n {
            self.seq += 1;
            let project_id = projects[i % projects.len()];
            let account = self
                .tool
                .project(project_id)
                .map(|p| p.account.clone())
                .unwrap_or_default();
            let closed = closed_every > 0 && (i + 1) % closed_every == 0;
            let seq = self.seq as usize;
            let due_on = DUE_IN[seq % DUE_IN.len()]
                .and_then(|d| self.today.checked_add(time::Duration::days(d)));
            let updated = self
                .today
                .checked_sub(time::Duration::days((seq % 9) as i64 + 1))
                .unwrap_or(self.today);
            self.tool.tasks.push(Task {
                id: (super::stand_in(self.kind).task_id)(self.seq),
                account,
                project: project_id.into(),
                title: TITLES[seq % TITLES.len()].into(),
                due_on,
                assignee: person.into(),
                closed,
                status: self.status(closed),
                updated_at: format!("{updated}T09:{:02}:00Z", seq % 60),
                pull_request: false,
            });
        }
    }

    /// The usual cast: Jane and John, who work, and the five who misbehave.
    pub(super) fn usual_people(
        &mut self,
        projects: &[&str],
        account: &str,
        with_auth_failures: bool,
    ) {
        let jane = self.person(&JANE, &[account]);
        self.tasks(&jane, projects, 12, 5);
        let john = self.person(&JOHN, &[account]);
        self.tasks(&john, &projects[..2.min(projects.len())], 7, 0);
        let cast: &[&PersonSpec] = if with_auth_failures {
            &[&EDDIE, &RITA, &ROB, &SID, &SALLY]
        } else {
            &[&ROB, &SID, &SALLY]
        };
        for s in cast {
            let id = self.person(s, &[account]);
            self.tasks(&id, &projects[..1], 3, 0);
        }
    }
}

/// The Jira site ids (`cloudId`s) of the sample sites.
pub const JIRA_ACME: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0001";
pub const JIRA_GLOBEX: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0002";
pub const JIRA_WIKI: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0003";

/// Pivotal memberships: the project ids each sample person belongs to.
pub(super) fn projects_static(i: usize) -> &'static [&'static str] {
    match i {
        0 => &["2001001", "2001002", "2001003"],
        1 => &["2001001", "2001002"],
        _ => &["2001001"],
    }
}

/// A task as the control API shows it.
pub fn task_json(tool: &Tool, t: &Task) -> serde_json::Value {
    let assignee = tool.person(&t.assignee);
    serde_json::json!({
        "id": t.id,
        "title": t.title,
        "account": t.account,
        "project": tool.project(&t.project).map(|p| p.name.clone()),
        "due_on": t.due_on.map(|d| d.to_string()),
        "assignee": t.assignee,
        "assignee_email": assignee.map(|p| p.email.clone()),
        "closed": t.closed,
        "status": t.status,
        "updated_at": t.updated_at,
        "pull_request": t.pull_request,
    })
}

/// A tool's whole sample data as the control API shows it.
pub fn tool_json(tool: &Tool) -> serde_json::Value {
    serde_json::json!({
        "accounts": tool.accounts,
        "projects": tool.projects,
        "people": tool.people,
        "tasks": tool.tasks.iter().map(|t| task_json(tool, t)).collect::<Vec<_>>(),
    })
}

/// The sample data of one tool as of `today`.
pub(super) fn sample(kind: ProviderKind, today: Date) -> Tool {
    (super::stand_in(kind).seed)(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_deterministic_and_consistent() {
        let today = time::macros::date!(2026 - 03 - 10);
        for kind in ProviderKind::ALL {
            let a = tool_json(&sample(kind, today));
            let b = tool_json(&sample(kind, today));
            assert_eq!(a, b);
            let tool = sample(kind, today);
            for t in &tool.tasks {
                assert!(tool.person(&t.assignee).is_some(), "{kind:?} {}", t.id);
                assert!(tool.project(&t.project).is_some());
            }
            let jane = tool
                .people
                .iter()
                .find(|p| p.email == "jane@acme.test")
                .unwrap();
            let open: Vec<_> = tool
                .tasks
                .iter()
                .filter(|t| t.assignee == jane.id && !t.closed)
                .collect();
            assert!((5..=30).contains(&open.len()), "{kind:?}");
            assert!(
                open.iter().any(|t| t.due_on.is_some_and(|d| d < today)),
                "{kind:?} overdue"
            );
            let projects: std::collections::HashSet<_> = open.iter().map(|t| &t.project).collect();
            assert!(projects.len() >= 2);
            let mut ids: Vec<_> = tool.tasks.iter().map(|t| &t.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), tool.tasks.len());
        }
    }

    #[test]
    fn salesforce_ids_are_eighteen_characters() {
        let tool = sample(
            ProviderKind::Salesforce,
            time::macros::date!(2026 - 03 - 10),
        );
        for id in tool
            .people
            .iter()
            .map(|p| &p.id)
            .chain(tool.tasks.iter().map(|t| &t.id))
            .chain(tool.accounts.iter().map(|a| &a.id))
        {
            assert_eq!(id.len(), 18, "{id}");
        }
    }
}
