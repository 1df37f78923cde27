//! The manager's decisions, as sans-IO steps: state in, decision and store writes out, time and
//! randomness passed in. The loops that drive them (store watches, the listener, timers) call
//! these steps and carry out what they return.

pub mod dispatcher;
