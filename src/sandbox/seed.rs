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

const TITLES: [&str; 30] = [
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
const DUE_IN: [Option<i64>; 10] = [
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

struct PersonSpec {
    first: &'static str,
    last: &'static str,
    email: &'static str,
    username: &'static str,
    token: Option<&'static str>,
    behaviour: Behaviour,
    note: Option<&'static str>,
    accounts: &'static [&'static str],
}

const fn spec(
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

const JANE: PersonSpec = spec(
    "Jane",
    "Doe",
    "jane@acme.test",
    "janedoe",
    Behaviour::Normal,
);
const JOHN: PersonSpec = spec(
    "John",
    "Roe",
    "john@acme.test",
    "johnroe",
    Behaviour::Normal,
);
const EDDIE: PersonSpec = spec(
    "Expired",
    "Eddie",
    "eddie.expired@acme.test",
    "eddie",
    Behaviour::Expired,
);
const RITA: PersonSpec = spec(
    "Revoked",
    "Rita",
    "rita.revoked@acme.test",
    "rita",
    Behaviour::Revoked,
);
const ROB: PersonSpec = spec(
    "Rate-limited",
    "Rob",
    "rob.ratelimited@acme.test",
    "rob",
    Behaviour::RateLimited,
);
const SID: PersonSpec = spec(
    "Server-error",
    "Sid",
    "sid.servererror@acme.test",
    "sid",
    Behaviour::ServerErrors,
);
const SALLY: PersonSpec = spec(
    "Slow",
    "Sally",
    "sally.slow@acme.test",
    "sally",
    Behaviour::Slow,
);

struct Builder {
    kind: ProviderKind,
    today: Date,
    tool: Tool,
    seq: u64,
}

impl Builder {
    fn new(kind: ProviderKind, today: Date) -> Self {
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

    fn account(&mut self, id: &str, name: &str, product: &str, legacy: bool) {
        self.tool.accounts.push(Account {
            id: id.into(),
            name: name.into(),
            product: product.into(),
            legacy,
        });
    }

    fn project(&mut self, id: &str, name: &str, account: &str) {
        self.tool.projects.push(Project {
            id: id.into(),
            name: name.into(),
            account: account.into(),
        });
    }

    fn person(&mut self, s: &PersonSpec, accounts: &[&str]) -> String {
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

    fn status(&self, closed: bool) -> String {
        let emulated = super::stand_in(self.kind);
        let open = emulated.open[self.seq as usize % emulated.open.len()];
        if closed { emulated.closed } else { open }.to_string()
    }

    /// `n` tasks for `person` spread over `projects`; every `closed_every`-th one is done.
    fn tasks(&mut self, person: &str, projects: &[&str], n: usize, closed_every: usize) {
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
    fn usual_people(&mut self, projects: &[&str], account: &str, with_auth_failures: bool) {
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

pub(super) fn basecamp(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Basecamp, today);
    b.account("5550001", "Acme", "bc3", false);
    b.account("5550002", "Globex", "bc3", false);
    b.account("5550003", "Initech", "bc3", false);
    b.account("5550004", "Acme (Basecamp 2)", "bcx", false);
    b.account("5550005", "Acme Archive", "bc3", true);
    b.project("2085958501", "Website Redesign", "5550001");
    b.project("2085958502", "Mobile App", "5550001");
    b.project("2085958503", "Office Move", "5550001");
    b.project("2085958504", "Globex Launch", "5550002");
    b.project("2085958505", "TPS Reports", "5550003");
    b.project("2085958506", "Old Projects", "5550005");
    b.usual_people(&["2085958501", "2085958502", "2085958503"], "5550001", true);
    let sam = b.person(
        &PersonSpec {
            note: Some("One sign-in reaching three Basecamp accounts (Acme, Globex, Initech) and an old Basecamp 2 account that must be ignored."),
            accounts: &["5550001", "5550002", "5550003", "5550004"],
            ..spec("Several", "Sam", "sam.several@acme.test", "sam", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&sam, &["2085958501"], 2, 0);
    b.tasks(&sam, &["2085958504"], 3, 0);
    b.tasks(&sam, &["2085958505"], 4, 0);
    let lou = b.person(
        &PersonSpec {
            note: Some("An older Basecamp without /my/assignments.json (404): tasks come from the paginated assigned to-dos report, 40 of them."),
            accounts: &["5550005"],
            ..spec("Legacy", "Lou", "lou.legacy@acme.test", "lou", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&lou, &["2085958506"], 40, 0);
    b.tool
}

/// GitHub: repositories are the projects; everyone has issues and one pull request,
/// Jane a dozen open ones mixing both, over three of the sandbox's pages.
pub(super) fn github(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::GitHub, today);
    b.account("github", "GitHub", "github", false);
    b.project("70001", "acme/website", "github");
    b.project("70002", "acme/mobile-app", "github");
    b.project("70003", "acme/infrastructure", "github");
    let repos = ["70001", "70002", "70003"];
    let jane = b.person(&JANE, &["github"]);
    b.tasks(&jane, &repos, 14, 5);
    let john = b.person(&JOHN, &["github"]);
    b.tasks(&john, &repos[..2], 5, 0);
    // No Expired Eddie: OAuth App tokens do not expire.
    let rita = PersonSpec {
        note: Some("Signing in works; API calls answer 401 Bad credentials (access revoked), and with no refresh token for a GitHub OAuth App that asks for a reconnect."),
        ..RITA
    };
    let rob = PersonSpec {
        note: Some("Issue calls answer 403 with x-ratelimit-remaining: 0 and x-ratelimit-reset 3 seconds on; after the reset, they work for a minute."),
        ..ROB
    };
    let sid = PersonSpec {
        note: Some("Issue calls answer 502 Server Error, as GitHub's do when it is down."),
        ..SID
    };
    for s in [&rita, &rob, &sid, &SALLY] {
        let id = b.person(s, &["github"]);
        b.tasks(&id, &repos[..1], 3, 0);
    }
    // Each person's first task is a pull request, and every fourth of Jane's.
    let mut seen = std::collections::HashMap::new();
    for t in &mut b.tool.tasks {
        let n = seen.entry(t.assignee.clone()).or_insert(0usize);
        t.pull_request = *n == 0 || (t.assignee == jane && *n % 4 == 0);
        *n += 1;
    }
    b.tool
}

/// Asana's workspaces: Jane is in both, so her tasks come from two workspaces, the
/// first over several pages.
pub(super) fn asana(today: Date) -> Tool {
    let acme = "1202000000000001";
    let labs = "1202000000000002";
    let mut b = Builder::new(ProviderKind::Asana, today);
    b.account(acme, "Acme", "workspace", false);
    b.account(labs, "Acme Labs", "workspace", false);
    b.project("1203000000000001", "Website Redesign", acme);
    b.project("1203000000000002", "Mobile App", acme);
    b.project("1203000000000003", "Office Move", acme);
    b.project("1203000000000004", "Research", labs);
    b.usual_people(
        &["1203000000000001", "1203000000000002", "1203000000000003"],
        acme,
        true,
    );
    let jane = b
        .tool
        .people
        .first()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    if let Some(p) = b.tool.people.first_mut() {
        p.accounts.push(labs.into());
        p.note = Some("Works normally. In two workspaces (Acme and Acme Labs); Acme's tasks come over several pages.");
    }
    b.tasks(&jane, &["1203000000000004"], 3, 0);
    b.tool
}

pub(super) fn intellinote(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Intellinote, today);
    b.account("5", "Acme Corp", "org", false);
    b.project("41", "Marketing", "5");
    b.project("42", "Engineering", "5");
    b.project("43", "Operations", "5");
    b.usual_people(&["41", "42", "43"], "5", true);
    b.tool
}

/// The Jira site ids (`cloudId`s) of the sample sites.
pub const JIRA_ACME: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0001";
pub const JIRA_GLOBEX: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0002";
pub const JIRA_WIKI: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0003";

/// Sites are accounts (`product` "jira", or "confluence" for a site a Jira connector
/// must leave out); projects' ids are Jira's numeric ones (their keys are in
/// `sandbox::jira`).
pub(super) fn jira(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Jira, today);
    b.account(JIRA_ACME, "Acme", "jira", false);
    b.account(JIRA_GLOBEX, "Globex", "jira", false);
    b.account(JIRA_WIKI, "Acme Wiki", "confluence", false);
    b.project("10000", "Website Redesign", JIRA_ACME);
    b.project("10001", "Mobile App", JIRA_ACME);
    b.project("10002", "Office Move", JIRA_ACME);
    b.project("10003", "Globex Launch", JIRA_GLOBEX);
    b.usual_people(&["10000", "10001", "10002"], JIRA_ACME, true);
    let sam = b.person(
        &PersonSpec {
            note: Some("One Atlassian sign-in reaching two Jira sites (Acme, Globex) and a Confluence-only site (Acme Wiki) that must be left out."),
            accounts: &[JIRA_ACME, JIRA_GLOBEX, JIRA_WIKI],
            ..spec("Several", "Sam", "sam.several@acme.test", "sam", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&sam, &["10000"], 2, 0);
    b.tasks(&sam, &["10003"], 3, 0);
    b.person(
        &PersonSpec {
            note: Some("Reaches only a Confluence site: there is no Jira site to sync."),
            accounts: &[JIRA_WIKI],
            ..spec(
                "Wiki-only",
                "Wendy",
                "wendy.wiki@acme.test",
                "wendy",
                Behaviour::Normal,
            )
        },
        &[],
    );
    b.tool
}

pub(super) fn pivotal(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::PivotalTracker, today);
    b.account("pivotal", "Pivotal Tracker", "tracker", false);
    b.project("2001001", "Website Redesign", "pivotal");
    b.project("2001002", "Mobile App", "pivotal");
    b.project("2001003", "Billing", "pivotal");
    let tokens = [
        ("sandbox-jane-doe", &JANE),
        ("sandbox-john-roe", &JOHN),
        ("sandbox-rate-limited", &ROB),
        ("sandbox-server-error", &SID),
        ("sandbox-slow", &SALLY),
    ];
    for (i, (token, s)) in tokens.into_iter().enumerate() {
        let projects = projects_static(i);
        let id = b.person(
            &PersonSpec {
                token: Some(token),
                accounts: projects_static(i),
                ..spec(s.first, s.last, s.email, s.username, s.behaviour)
            },
            &[],
        );
        let n = match i {
            0 => 12,
            1 => 7,
            _ => 3,
        };
        b.tasks(&id, projects, n, if i == 0 { 5 } else { 0 });
    }
    let max = b.person(
        &PersonSpec {
            token: Some("sandbox-many-stories"),
            note: Some("13 stories in one project: they come over several pages of the stories list (offset paging)."),
            accounts: &["2001003"],
            ..spec("Many", "Max", "max.many@acme.test", "max", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&max, &["2001003"], 13, 0);
    b.tool
}

/// Pivotal memberships: the project ids each sample person belongs to.
fn projects_static(i: usize) -> &'static [&'static str] {
    match i {
        0 => &["2001001", "2001002", "2001003"],
        1 => &["2001001", "2001002"],
        _ => &["2001001"],
    }
}

pub(super) fn salesforce(today: Date) -> Tool {
    let acme = "00D5e0000000001AAA";
    let tiny = "00D5e0000000002AAA";
    let busy = "00D5e0000000003AAA";
    let mut b = Builder::new(ProviderKind::Salesforce, today);
    b.account(acme, "Acme Corp", "Enterprise Edition", false);
    b.account(tiny, "Tiny Team", "Team Edition", false);
    b.account(busy, "Busy Bees Inc", "Professional Edition", false);
    b.project("0065e0000000001AAA", "Acme Renewal 2026", acme);
    b.project("0015e0000000002AAA", "Globex Corporation", acme);
    b.project("0065e0000000003AAA", "Initech Upgrade", acme);
    b.project("0015e0000000004AAA", "Tiny Client", tiny);
    b.project("0015e0000000005AAA", "Busy Client", busy);
    b.usual_people(
        &[
            "0065e0000000001AAA",
            "0015e0000000002AAA",
            "0065e0000000003AAA",
        ],
        acme,
        true,
    );
    let grace = b.person(
        &spec(
            "Group-edition",
            "Grace",
            "grace.groupedition@tinyteam.test",
            "grace",
            Behaviour::ApiDisabled,
        ),
        &[tiny],
    );
    b.tasks(&grace, &["0015e0000000004AAA"], 3, 0);
    let olive = b.person(
        &spec(
            "Over-limit",
            "Olive",
            "olive.overlimit@busybees.test",
            "olive",
            Behaviour::RequestLimit,
        ),
        &[busy],
    );
    b.tasks(&olive, &["0015e0000000005AAA"], 3, 0);
    b.tool
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
