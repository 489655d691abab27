//! All end-to-end tests in one binary, so linking happens once.

mod attachments;
mod auth;
mod browser;
mod cache;
mod cluster;
mod content;
mod copy;
mod drafts;
mod editor_bench;
mod embedded;
mod first_party;
mod fuzz;
mod import;
mod inline_comments;
mod migrations;
mod notify;
mod perms;
mod plugins;
mod rest;
mod rest_clients;
mod search;
mod status;
mod tasks;
mod ui;
mod ui_bench;
