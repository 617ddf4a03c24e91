"""What the chat adapters (Matrix, Mattermost) share."""
