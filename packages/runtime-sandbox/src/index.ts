// Public API of @helm/runtime-sandbox — filled in by its issue.
export {};
