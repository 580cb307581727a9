"""costguard offhours."""
