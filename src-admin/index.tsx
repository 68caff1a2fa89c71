// Mounts the admin app on its screen.
import { createRoot } from '@wordpress/element';
import '@wordpress/components/build-style/style.css';
import '@wordpress/dataviews/build-style/style.css';
import './style.scss';
import { App } from './components/App';

declare global {
  interface Window {
    sidecarScheduler?: { timezone: string; mode: string };
  }
}

const root = document.getElementById('sidecar-scheduler-root');
if (root) createRoot(root).render(<App timezone={window.sidecarScheduler?.timezone ?? 'UTC'} />);
