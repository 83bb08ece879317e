"""Staj Asistanı: a Turkish chat assistant for the National Internship Program (USP)."""
