// CLI entry (placeholder).
console.log('basis');
