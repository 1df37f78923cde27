//! The scheduler step's tests, by topic, on a [`fixture::Cluster`].

mod capacity;
mod fixture;
mod fresh;
mod placement;
mod preset;
