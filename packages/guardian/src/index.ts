// Public API of @helm/guardian — filled in by its issue.
export {};
