// Public API of @helm/executor — filled in by its issue.
export {};
