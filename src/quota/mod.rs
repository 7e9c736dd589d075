//! Admission limits at key, team and global level: RPM, TPM, concurrency and budgets,
//! reserved before the provider is called and settled with the real usage afterwards.

pub mod spec;

pub use spec::{BudgetSpec, LimitSpec};
