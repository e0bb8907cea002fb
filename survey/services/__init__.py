"""Operations on the domain that views and CLI commands share; each runs in one transaction."""
