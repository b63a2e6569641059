// Public API of @helm/trust — filled in by its issue.
export {};
