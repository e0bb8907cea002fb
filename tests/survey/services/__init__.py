"""The services below the web: storage, the ballot box, definitions, imports, exports, reports."""
