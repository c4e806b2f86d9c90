//! End-to-end tests: the connectors against the sandbox on a real server.
