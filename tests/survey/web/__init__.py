"""The pages: signing in, management, the respondents' pages, results, headers, translations."""
