import { createApp } from 'vue';
import App from './App.vue';

const app = createApp(App);
app.mount('#app');
window.__app = app; // the test unmounts it to check the clean disconnect
