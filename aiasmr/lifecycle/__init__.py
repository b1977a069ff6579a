"""The account lifecycle: what spans the apps when an account is created or deleted, and the account's
statistics. It sits at the top of the layers (with the back office), so it imports the apps it composes:
registration grants the signup bonus (credits), deletion removes the videos and their stored files
(videos), statistics read videos and the ledger. Its endpoints keep their /api/auth and /api/user URLs."""
