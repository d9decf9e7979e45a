//! The result of detection.

use crate::data::{BuildPlan, PlanAlternative, Provide, Require};

/// What detection decided: pass (with a build plan) or fail (with a reason).
///
/// ```
/// use libbuildpack::Detect;
/// let pass = Detect::pass().provides("pip").requires("pip");
/// assert!(pass.is_pass());
/// assert_eq!(pass.plan().map(|p| p.provides.len()), Some(1));
/// let fail = Detect::fail("no requirements.txt");
/// assert_eq!(fail.fail_reason(), Some("no requirements.txt"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Detect(Outcome);

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pass(BuildPlan),
    Fail(String),
}

impl Detect {
    /// The buildpack applies. Add to its build plan with [`provides`](Self::provides) and
    /// [`requires`](Self::requires).
    pub fn pass() -> Self {
        Self(Outcome::Pass(BuildPlan::default()))
    }

    /// The buildpack does not apply; `reason` is printed. Exits with status 100.
    pub fn fail(reason: impl Into<String>) -> Self {
        Self(Outcome::Fail(reason.into()))
    }

    fn plan_mut(&mut self) -> Option<&mut BuildPlan> {
        match &mut self.0 {
            Outcome::Pass(plan) => Some(plan),
            Outcome::Fail(_) => None,
        }
    }

    /// Adds `[[provides]] name` (ignored after [`fail`](Self::fail)).
    pub fn provides(mut self, name: impl Into<String>) -> Self {
        if let Some(plan) = self.plan_mut() {
            plan.provides.push(Provide::new(name));
        }
        self
    }

    /// Adds `[[requires]] name` (ignored after [`fail`](Self::fail)).
    pub fn requires(self, name: impl Into<String>) -> Self {
        self.requires_with(name, toml::Table::new())
    }

    /// Adds `[[requires]] name` with `metadata` (put a version at `metadata.version`).
    pub fn requires_with(mut self, name: impl Into<String>, metadata: toml::Table) -> Self {
        if let Some(plan) = self.plan_mut() {
            plan.requires.push(Require {
                name: name.into(),
                metadata,
            });
        }
        self
    }

    /// Adds an `[[or]]` alternative, tried after the top-level pair and earlier alternatives.
    pub fn or(mut self, alternative: PlanAlternative) -> Self {
        if let Some(plan) = self.plan_mut() {
            plan.or.push(alternative);
        }
        self
    }

    /// Whether detection passed.
    #[must_use]
    pub fn is_pass(&self) -> bool {
        matches!(self.0, Outcome::Pass(_))
    }

    /// The build plan, when detection passed.
    #[must_use]
    pub fn plan(&self) -> Option<&BuildPlan> {
        match &self.0 {
            Outcome::Pass(plan) => Some(plan),
            Outcome::Fail(_) => None,
        }
    }

    /// The reason, when detection failed.
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        match &self.0 {
            Outcome::Pass(_) => None,
            Outcome::Fail(reason) => Some(reason),
        }
    }
}
