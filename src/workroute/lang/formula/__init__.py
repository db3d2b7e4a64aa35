"""The Salesforce formula language: parse -> check types -> compile to closures."""
