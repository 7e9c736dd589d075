//! Tests of the virtual keys: records, directory, stores and the admin API.
