// PM2: `pm2 start ecosystem.config.cjs`, then `pm2 save` (and `pm2 startup` once per machine).
module.exports = {
  apps: [
    {
      name: 'my-agent',
      script: 'node_modules/c4c-runner/bin/c4c-runner.js',
      args: 'start',
      // One process per agent token: the platform keeps one socket per agent.
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // PM2 sends SIGINT, waits kill_timeout ms, then SIGKILL: above drainTimeout (10 s by default).
      kill_timeout: 30_000,
      env: { NODE_ENV: 'production', C4C_HEALTH_PORT: '9464' },
    },
  ],
};
