"""The central system (CSMS): serves stations, keeps their data, reaches them with commands."""
