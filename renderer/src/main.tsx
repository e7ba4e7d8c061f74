// Renderer entry. The theme is applied before the first paint so the lock screen does not flash.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { applyTheme, rememberedTheme } from './stores/settings.ts';
import './styles/index.css';

applyTheme(rememberedTheme());

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
