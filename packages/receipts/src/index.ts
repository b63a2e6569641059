// Public API of @helm/receipts — filled in by its issue.
export {};
